import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// One message: prose rendered as Markdown, code blocks highlighted with a copy button each, a badge
// for answers (local/cloud, model, tokens/s) and the actions (edit and resend, regenerate, copy).
Item {
    id: root
    required property var chat
    required property var app
    required property var messageId
    required property string role
    required property string content
    required property var blocks
    required property string provider
    required property string model
    required property real tokensPerSecond
    required property string status
    required property string error
    required property int branchIndex
    required property int branchCount
    readonly property bool isUser: role === "user"
    property bool editing: false

    implicitHeight: bubble.implicitHeight

    Rectangle {
        id: bubble
        x: root.isUser ? root.width - width - 16 : 16
        width: Math.min(root.width - 32, root.isUser ? Math.max(200, Math.min(root.width * 0.75, body.implicitWidth + 24)) : root.width - 32)
        implicitHeight: body.implicitHeight + 20
        radius: 8
        color: root.isUser ? (root.app.dark ? "#2e436e" : "#e7f0ff") : "transparent"
        border.width: root.isUser ? 0 : 1
        border.color: root.app.dark ? "#3c3f41" : "#e1e4e8"

        ColumnLayout {
            id: body
            x: 12
            y: 10
            width: bubble.width - 24
            spacing: 6

            // Badge for answers.
            RowLayout {
                visible: !root.isUser
                spacing: 6
                Rectangle {
                    objectName: "providerBadge"
                    radius: 3
                    color: root.provider === "cloud" ? root.app.cloudColor : root.app.accent
                    implicitWidth: badgeText.implicitWidth + 10
                    implicitHeight: badgeText.implicitHeight + 4
                    Label {
                        id: badgeText
                        anchors.centerIn: parent
                        color: "white"
                        font.pixelSize: 11
                        text: root.provider === "cloud" ? qsTr("Cloud") : (root.provider.startsWith("plugin:") ? qsTr("Plugin") : qsTr("Local"))
                    }
                }
                Label {
                    font.pixelSize: 11
                    color: root.app.muted
                    text: root.model + (root.tokensPerSecond > 0 ? qsTr(" · %1 tokens/s").arg(root.tokensPerSecond.toFixed(1)) : "")
                          + (root.status === "streaming" ? qsTr(" · writing…") : "")
                          + (root.status === "interrupted" ? qsTr(" · stopped") : "")
                }
            }

            // Content blocks.
            Repeater {
                model: root.editing ? [] : root.blocks
                delegate: Loader {
                    required property var modelData
                    Layout.fillWidth: true
                    sourceComponent: modelData.kind === "code" ? codeBlock : proseBlock
                    property var block: modelData
                }
            }
            Label {
                visible: root.blocks.length === 0 && root.status === "streaming"
                text: "…"
                color: root.app.muted
            }
            Label {
                visible: root.error.length > 0
                text: root.error
                color: "#c92a2a"
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }

            // Inline edit of a user message.
            ColumnLayout {
                visible: root.editing
                Layout.fillWidth: true
                TextArea {
                    id: editBox
                    Layout.fillWidth: true
                    wrapMode: TextEdit.Wrap
                    Accessible.name: qsTr("Edit message")
                }
                RowLayout {
                    Button { text: qsTr("Send edit"); Accessible.name: qsTr("Send the edited message"); onClicked: { root.editing = false; root.chat.editAndResend(root.messageId, editBox.text) } }
                    Button { text: qsTr("Cancel"); flat: true; onClicked: root.editing = false }
                }
            }

            // Actions.
            RowLayout {
                spacing: 2
                visible: !root.editing && root.status !== "streaming"
                ToolButton {
                    visible: root.branchCount > 1
                    text: "‹"
                    Accessible.name: qsTr("Previous version")
                    onClicked: root.chat.switchBranch(root.messageId, -1)
                }
                Label {
                    visible: root.branchCount > 1
                    text: (root.branchIndex + 1) + "/" + root.branchCount
                    color: root.app.muted
                    font.pixelSize: 11
                }
                ToolButton {
                    visible: root.branchCount > 1
                    text: "›"
                    Accessible.name: qsTr("Next version")
                    onClicked: root.chat.switchBranch(root.messageId, 1)
                }
                ToolButton {
                    text: qsTr("Copy")
                    font.pixelSize: 11
                    Accessible.name: qsTr("Copy message")
                    onClicked: root.chat.copyToClipboard(root.content)
                }
                ToolButton {
                    visible: root.isUser
                    text: qsTr("Edit")
                    font.pixelSize: 11
                    enabled: !root.chat.busy
                    Accessible.name: qsTr("Edit and resend")
                    onClicked: { editBox.text = root.content; root.editing = true }
                }
                ToolButton {
                    visible: !root.isUser
                    text: qsTr("Regenerate")
                    font.pixelSize: 11
                    enabled: !root.chat.busy
                    Accessible.name: qsTr("Regenerate answer")
                    onClicked: root.chat.regenerate(root.messageId)
                }
            }
        }
    }

    Component {
        id: proseBlock
        TextEdit {
            text: block.text
            textFormat: TextEdit.MarkdownText
            readOnly: true
            selectByMouse: true
            wrapMode: TextEdit.Wrap
            color: root.app.fg
            selectedTextColor: "white"
            selectionColor: root.app.accent
            font.pixelSize: 14
            Accessible.role: Accessible.StaticText
            Accessible.name: block.text
        }
    }
    Component {
        id: codeBlock
        Rectangle {
            radius: 6
            color: root.app.dark ? "#1a1b1e" : "#f6f8fa"
            border.color: root.app.dark ? "#3c3f41" : "#e1e4e8"
            implicitHeight: codeColumn.implicitHeight + 8
            ColumnLayout {
                id: codeColumn
                x: 8
                y: 4
                width: parent.width - 16
                spacing: 0
                RowLayout {
                    Layout.fillWidth: true
                    Label { text: block.language.length > 0 ? block.language : qsTr("code"); color: root.app.muted; font.pixelSize: 11; Layout.fillWidth: true }
                    ToolButton {
                        objectName: "copyCodeButton"
                        text: qsTr("Copy")
                        font.pixelSize: 11
                        Accessible.name: qsTr("Copy code")
                        onClicked: { root.chat.copyToClipboard(block.text); text = qsTr("Copied") }
                    }
                }
                TextEdit {
                    Layout.fillWidth: true
                    text: block.html
                    textFormat: TextEdit.RichText
                    readOnly: true
                    selectByMouse: true
                    wrapMode: TextEdit.NoWrap
                    font.family: "monospace"
                    font.pixelSize: 13
                    Accessible.role: Accessible.StaticText
                    Accessible.name: block.text
                }
            }
        }
    }
}
