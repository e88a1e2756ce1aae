import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// The chat: header (title, model, Local ⇄ Cloud switch, context meter), the cloud notice, the
// messages and the composer (Enter sends, Shift+Enter adds a line, /command runs a plugin).
Pane {
    id: root
    objectName: "chatPage"
    required property var chat
    required property var models
    required property var app
    padding: 0
    background: Rectangle { color: root.app.bg }

    function focusComposer() { messageBox.forceActiveFocus() }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        // Header.
        Rectangle {
            Layout.fillWidth: true
            implicitHeight: header.implicitHeight + 16
            color: root.app.panel
            RowLayout {
                id: header
                anchors.fill: parent
                anchors.margins: 8
                spacing: 12
                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: 0
                    Label {
                        objectName: "chatTitle"
                        text: root.chat.title.length > 0 ? root.chat.title : qsTr("New chat")
                        font.bold: true
                        font.pixelSize: 16
                        elide: Text.ElideRight
                        Layout.fillWidth: true
                    }
                    Label {
                        objectName: "modelLabel"
                        text: root.chat.cloud ? qsTr("Cloud model: %1").arg(root.chat.cloudModel)
                              : (root.chat.localModel.length > 0 ? qsTr("Local model: %1").arg(root.chat.localModel)
                                                                 : qsTr("No model loaded"))
                        color: root.app.muted
                        font.pixelSize: 12
                    }
                }
                // Context-usage meter.
                ColumnLayout {
                    spacing: 2
                    ProgressBar {
                        objectName: "contextMeter"
                        from: 0
                        to: Math.max(1, root.chat.contextSize)
                        value: Math.min(root.chat.contextUsed, root.chat.contextSize)
                        Layout.preferredWidth: 140
                        Accessible.name: qsTr("Context used")
                        Accessible.description: qsTr("%1 of %2 tokens").arg(root.chat.contextUsed).arg(root.chat.contextSize)
                    }
                    Label {
                        text: qsTr("Context %1 / %2").arg(root.chat.contextUsed).arg(root.chat.contextSize)
                        font.pixelSize: 11
                        color: root.app.muted
                    }
                }
                CheckBox {
                    objectName: "useContextToggle"
                    text: qsTr("Personal context")
                    checked: root.chat.useContext
                    enabled: !root.chat.cloud
                    Accessible.name: qsTr("Use personal context in this conversation")
                    onToggled: root.chat.useContext = checked
                }
                // Local ⇄ Cloud.
                RowLayout {
                    spacing: 4
                    Label { text: qsTr("Local") ; color: root.chat.cloud ? root.app.muted : root.app.accent; font.bold: !root.chat.cloud }
                    Switch {
                        objectName: "modeSwitch"
                        checked: root.chat.cloud
                        Accessible.name: qsTr("Answer with the cloud model")
                        onToggled: root.chat.setMode(checked ? "cloud" : "local")
                    }
                    Label { text: qsTr("Cloud"); color: root.chat.cloud ? root.app.cloudColor : root.app.muted; font.bold: root.chat.cloud }
                }
            }
        }

        // While cloud is active: what leaves the device.
        Rectangle {
            objectName: "cloudNotice"
            visible: root.chat.cloud
            Layout.fillWidth: true
            implicitHeight: noticeText.implicitHeight + 12
            color: root.app.dark ? "#4a3414" : "#fff4e5"
            Label {
                id: noticeText
                anchors.fill: parent
                anchors.margins: 6
                wrapMode: Text.Wrap
                color: root.app.dark ? "#ffd8a8" : "#8a4b00"
                text: qsTr("Cloud mode: your messages in this conversation are sent to %1 and leave this device. "
                           + "Your personal context is not sent.").arg(root.chat.cloudModel)
            }
        }

        // Messages.
        ListView {
            id: messageList
            objectName: "messageList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 10
            topMargin: 12
            bottomMargin: 12
            model: root.chat.messages
            Accessible.name: qsTr("Messages")
            ScrollBar.vertical: ScrollBar {}
            delegate: MessageDelegate {
                width: ListView.view.width
                chat: root.chat
                app: root.app
            }
            onCountChanged: Qt.callLater(positionViewAtEnd)
            Connections {
                target: root.chat.messages
                function onDataChanged() { if (messageList.atYEnd || root.chat.busy) Qt.callLater(messageList.positionViewAtEnd) }
            }
            Column {
                anchors.centerIn: parent
                visible: messageList.count === 0
                spacing: 8
                Label {
                    anchors.horizontalCenter: parent.horizontalCenter
                    text: qsTr("Ask anything. Answers are generated on this device.")
                    color: root.app.muted
                    font.pixelSize: 15
                }
                Label {
                    anchors.horizontalCenter: parent.horizontalCenter
                    visible: root.models.loading
                    text: qsTr("Loading model… %1%").arg(Math.round(root.models.loadFraction * 100))
                    color: root.app.muted
                }
            }
        }

        Label {
            objectName: "errorLabel"
            visible: root.chat.errorText.length > 0
            text: root.chat.errorText
            color: "#c92a2a"
            wrapMode: Text.Wrap
            Layout.fillWidth: true
            Layout.leftMargin: 12
            Layout.rightMargin: 12
        }

        Label {
            objectName: "noticeLabel"
            visible: root.chat.notice.length > 0
            text: root.chat.notice
            color: root.app.muted
            wrapMode: Text.Wrap
            Layout.fillWidth: true
            Layout.leftMargin: 12
            Layout.rightMargin: 12
        }
        Connections {
            target: root.chat
            function onComposerFill(text) { messageBox.text = text; messageBox.cursorPosition = text.length; messageBox.forceActiveFocus() }
        }

        // Slash-command suggestions.
        ListView {
            objectName: "slashSuggestions"
            visible: messageBox.text.startsWith("/") && count > 0
            Layout.fillWidth: true
            Layout.preferredHeight: Math.min(contentHeight, 120)
            Layout.leftMargin: 12
            model: root.chat.slashCommands.filter(c => c.startsWith(messageBox.text.split(" ")[0]))
            delegate: ItemDelegate {
                required property string modelData
                width: ListView.view.width
                text: modelData
                onClicked: { messageBox.text = modelData.split(" ")[0] + " "; messageBox.cursorPosition = messageBox.text.length; messageBox.forceActiveFocus() }
            }
        }

        // Composer.
        RowLayout {
            Layout.fillWidth: true
            Layout.margins: 12
            spacing: 8
            ScrollView {
                Layout.fillWidth: true
                Layout.preferredHeight: Math.min(160, Math.max(48, messageBox.implicitHeight))
                TextArea {
                    id: messageBox
                    objectName: "messageBox"
                    placeholderText: qsTr("Message Bonsai…  (Enter sends, Shift+Enter adds a line, / for plugin commands)")
                    wrapMode: TextEdit.Wrap
                    Accessible.name: qsTr("Message")
                    focus: true
                    Keys.onPressed: (event) => {
                        if ((event.key === Qt.Key_Return || event.key === Qt.Key_Enter)
                                && !(event.modifiers & Qt.ShiftModifier)) {
                            event.accepted = true
                            sendButton.clicked()
                        }
                    }
                }
            }
            Button {
                id: sendButton
                objectName: "sendButton"
                visible: !root.chat.busy
                text: qsTr("Send")
                enabled: messageBox.text.trim().length > 0
                Accessible.name: qsTr("Send message")
                onClicked: {
                    if (!enabled) return
                    if (root.chat.send(messageBox.text)) messageBox.text = ""
                }
            }
            Button {
                objectName: "stopButton"
                visible: root.chat.busy
                text: qsTr("Stop")
                Accessible.name: qsTr("Stop the answer (Esc)")
                onClicked: root.chat.stop()
            }
        }
    }
}
