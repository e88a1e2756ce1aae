import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs

// Conversations (new, rename, pin, delete with undo, export), full-text search and page navigation.
Pane {
    id: root
    required property var sidebar
    required property var chat
    required property var app
    padding: 8
    background: Rectangle { color: root.app.panel }

    function focusSearch() { searchField.forceActiveFocus(); searchField.selectAll() }

    property var exportId: 0
    property string exportFormat: "md"

    ColumnLayout {
        anchors.fill: parent
        spacing: 6

        Button {
            objectName: "newChatButton"
            text: qsTr("New chat")
            icon.name: "document-new"
            Layout.fillWidth: true
            Accessible.name: qsTr("New chat")
            ToolTip.visible: hovered
            ToolTip.text: qsTr("New chat (Ctrl+N)")
            onClicked: { root.app.showPage(0); root.chat.newChat() }
        }
        TextField {
            id: searchField
            objectName: "searchField"
            Layout.fillWidth: true
            placeholderText: qsTr("Search messages (Ctrl+F)")
            Accessible.name: qsTr("Search messages")
            onTextChanged: root.sidebar.search(text)
            Keys.onEscapePressed: text = ""
        }

        // Search results with highlighted snippets.
        ListView {
            id: resultList
            objectName: "searchResults"
            visible: searchField.text.length > 0
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 4
            model: root.sidebar.searchResults
            Accessible.name: qsTr("Search results")
            delegate: ItemDelegate {
                required property var conversationId
                required property string title
                required property string snippet
                required property string role
                width: ListView.view.width
                Accessible.name: qsTr("Result in %1").arg(title)
                contentItem: Column {
                    spacing: 2
                    Label { text: title; font.bold: true; elide: Text.ElideRight; width: parent.width; color: root.app.fg }
                    Label {
                        text: snippet
                        textFormat: Text.StyledText
                        wrapMode: Text.Wrap
                        width: parent.width
                        color: root.app.muted
                        maximumLineCount: 3
                    }
                }
                onClicked: { root.app.showPage(0); root.chat.openConversation(conversationId) }
            }
            Label {
                anchors.centerIn: parent
                visible: resultList.count === 0
                text: qsTr("No matches")
                color: root.app.muted
            }
        }

        ListView {
            id: conversationList
            objectName: "conversationList"
            visible: searchField.text.length === 0
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: root.sidebar.conversations
            Accessible.name: qsTr("Conversations")
            delegate: ItemDelegate {
                id: row
                required property var conversationId
                required property string title
                required property bool pinned
                required property string mode
                width: ListView.view.width
                highlighted: conversationId === root.chat.conversationId
                text: (pinned ? "★ " : "") + title + (mode === "cloud" ? "  ☁" : "")
                Accessible.name: qsTr("Conversation %1").arg(title)
                onClicked: { root.app.showPage(0); root.chat.openConversation(conversationId) }
                ToolButton {
                    anchors.right: parent.right
                    anchors.verticalCenter: parent.verticalCenter
                    text: "⋯"
                    Accessible.name: qsTr("Conversation actions")
                    onClicked: menu.popup()
                }
                Menu {
                    id: menu
                    MenuItem { text: qsTr("Rename…"); onTriggered: { renameDialog.targetId = row.conversationId; renameField.text = row.title; renameDialog.open() } }
                    MenuItem { text: row.pinned ? qsTr("Unpin") : qsTr("Pin"); onTriggered: root.sidebar.setPinned(row.conversationId, !row.pinned) }
                    MenuItem { text: qsTr("Export as Markdown…"); onTriggered: { root.exportId = row.conversationId; root.exportFormat = "md"; exportDialog.open() } }
                    MenuItem { text: qsTr("Export as JSON…"); onTriggered: { root.exportId = row.conversationId; root.exportFormat = "json"; exportDialog.open() } }
                    MenuItem { text: qsTr("Delete"); onTriggered: { if (row.conversationId === root.chat.conversationId) root.chat.newChat(); root.sidebar.remove(row.conversationId) } }
                }
            }
            Label {
                anchors.centerIn: parent
                visible: conversationList.count === 0
                text: qsTr("No conversations yet")
                color: root.app.muted
            }
        }

        // Undo banner after a delete.
        Rectangle {
            objectName: "undoBanner"
            visible: root.sidebar.canUndoDelete
            Layout.fillWidth: true
            implicitHeight: undoRow.implicitHeight + 8
            radius: 4
            color: root.app.dark ? "#3c3f41" : "#fff3cd"
            RowLayout {
                id: undoRow
                anchors.fill: parent
                anchors.margins: 4
                Label { text: qsTr("Deleted “%1”").arg(root.sidebar.undoTitle); elide: Text.ElideRight; Layout.fillWidth: true; color: root.app.fg }
                Button {
                    objectName: "undoButton"
                    text: qsTr("Undo")
                    Accessible.name: qsTr("Undo delete")
                    onClicked: root.sidebar.undoDelete()
                }
            }
        }
        Label {
            visible: root.sidebar.status.length > 0
            text: root.sidebar.status
            wrapMode: Text.Wrap
            Layout.fillWidth: true
            color: root.app.muted
            font.pixelSize: 11
        }

        // Pages.
        GridLayout {
            columns: 2
            Layout.fillWidth: true
            Repeater {
                model: [qsTr("Chat"), qsTr("Models"), qsTr("Context"), qsTr("Plugins"), qsTr("Settings")]
                delegate: Button {
                    required property int index
                    required property string modelData
                    objectName: "nav" + index
                    text: modelData
                    flat: root.app.currentPage !== index
                    Layout.fillWidth: true
                    Accessible.name: qsTr("Show %1").arg(modelData)
                    onClicked: root.app.showPage(index)
                }
            }
        }
    }

    Dialog {
        id: renameDialog
        property var targetId: 0
        title: qsTr("Rename conversation")
        anchors.centerIn: Overlay.overlay
        modal: true
        standardButtons: Dialog.Ok | Dialog.Cancel
        TextField { id: renameField; width: 300; Accessible.name: qsTr("New title") }
        onAccepted: root.sidebar.rename(targetId, renameField.text)
    }
    FileDialog {
        id: exportDialog
        title: qsTr("Export conversation")
        fileMode: FileDialog.SaveFile
        nameFilters: root.exportFormat === "json" ? [qsTr("JSON (*.json)")] : [qsTr("Markdown (*.md)")]
        onAccepted: root.sidebar.exportTo(root.exportId, root.exportFormat, selectedFile.toString())
    }
}
