import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ApplicationWindow {
    id: window
    objectName: "mainWindow"
    width: 1100
    height: 720
    visible: true
    title: qsTr("Bonsai")

    // Set by the loader (ui/src/main_window_loader.cpp).
    required property var conversations
    property string modelName: ""

    RowLayout {
        anchors.fill: parent
        spacing: 0

        Pane {
            Layout.preferredWidth: 260
            Layout.fillHeight: true
            ColumnLayout {
                anchors.fill: parent
                Button {
                    objectName: "newChatButton"
                    text: qsTr("New chat")
                    Accessible.name: qsTr("New chat")
                    Layout.fillWidth: true
                }
                ListView {
                    id: conversationList
                    objectName: "conversationList"
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    clip: true
                    model: window.conversations
                    Accessible.name: qsTr("Conversations")
                    delegate: ItemDelegate {
                        required property string title
                        required property bool pinned
                        width: ListView.view.width
                        text: (pinned ? "📌 " : "") + title
                    }
                    Label {
                        anchors.centerIn: parent
                        visible: conversationList.count === 0
                        text: qsTr("No conversations yet")
                        opacity: 0.6
                    }
                }
            }
        }

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.margins: 12

            Label {
                objectName: "modelLabel"
                text: window.modelName.length > 0 ? qsTr("Local model: %1").arg(window.modelName)
                                                  : qsTr("No model loaded")
                font.bold: true
            }
            Item { Layout.fillHeight: true; Layout.fillWidth: true }
            RowLayout {
                Layout.fillWidth: true
                ScrollView {
                    Layout.fillWidth: true
                    Layout.preferredHeight: 80
                    TextArea {
                        id: messageBox
                        objectName: "messageBox"
                        placeholderText: qsTr("Message Bonsai…")
                        wrapMode: TextEdit.Wrap
                        Accessible.name: qsTr("Message")
                    }
                }
                Button {
                    objectName: "sendButton"
                    text: qsTr("Send")
                    enabled: messageBox.text.trim().length > 0
                    Accessible.name: qsTr("Send message")
                }
            }
        }
    }
}
