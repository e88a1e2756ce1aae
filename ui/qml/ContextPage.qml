import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs

// Personal context: notes and facts kept on this device for the local model.
Pane {
    id: root
    objectName: "contextPage"
    required property var contextStore
    required property var app
    background: Rectangle { color: root.app.bg }

    ColumnLayout {
        anchors.fill: parent
        spacing: 8
        Label { text: qsTr("Personal context"); font.bold: true; font.pixelSize: 20 }
        Label {
            text: qsTr("Notes, facts and documents stay on this device. Only the local model sees them, and only in "
                       + "conversations where “Personal context” is on. Text, Markdown and PDF files can be imported.")
            wrapMode: Text.Wrap
            Layout.fillWidth: true
            color: root.app.muted
        }
        RowLayout {
            Layout.fillWidth: true
            ComboBox { id: kindBox; model: [qsTr("Note"), qsTr("Fact")]; Accessible.name: qsTr("Kind") }
            TextField { id: titleField; placeholderText: qsTr("Title"); Layout.preferredWidth: 200; Accessible.name: qsTr("Title") }
            TextField { id: textField; objectName: "contextText"; placeholderText: qsTr("What should the assistant know?"); Layout.fillWidth: true; Accessible.name: qsTr("Text") }
            Button {
                text: qsTr("Add")
                Accessible.name: qsTr("Add to personal context")
                enabled: textField.text.trim().length > 0
                onClicked: {
                    if (root.contextStore.add(kindBox.currentIndex === 1 ? "fact" : "note", titleField.text, textField.text) > 0) {
                        titleField.text = ""; textField.text = ""
                    }
                }
            }
            Button { text: qsTr("Import file…"); Accessible.name: qsTr("Import a text, Markdown or PDF file"); onClicked: importDialog.open() }
        }
        TextField {
            id: searchField
            Layout.fillWidth: true
            placeholderText: qsTr("Search personal context")
            Accessible.name: qsTr("Search personal context")
            onTextChanged: root.contextStore.search(text)
        }
        Label { visible: root.contextStore.status.length > 0; text: root.contextStore.status; color: root.app.muted }
        ListView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 4
            model: searchField.text.length > 0 ? root.contextStore.results : root.contextStore.items
            Accessible.name: qsTr("Personal context items")
            delegate: Rectangle {
                required property var modelData
                width: ListView.view.width
                implicitHeight: itemRow.implicitHeight + 12
                radius: 6
                color: root.app.panel
                RowLayout {
                    id: itemRow
                    anchors.fill: parent
                    anchors.margins: 6
                    ColumnLayout {
                        Layout.fillWidth: true
                        spacing: 0
                        Label { text: "[" + modelData.kind + "] " + modelData.title; font.bold: true; elide: Text.ElideRight; Layout.fillWidth: true }
                        Label {
                            text: modelData.snippet !== undefined ? modelData.snippet : modelData.text
                            textFormat: modelData.snippet !== undefined ? Text.StyledText : Text.PlainText
                            wrapMode: Text.Wrap
                            maximumLineCount: 3
                            Layout.fillWidth: true
                            color: root.app.muted
                        }
                    }
                    Button {
                        text: qsTr("Delete")
                        Accessible.name: qsTr("Delete %1").arg(modelData.title)
                        onClicked: { root.contextStore.remove(modelData.id); if (searchField.text.length > 0) root.contextStore.search(searchField.text) }
                    }
                }
            }
        }
    }
    FileDialog {
        id: importDialog
        title: qsTr("Import into personal context")
        nameFilters: [qsTr("Text, Markdown and PDF (*.txt *.md *.markdown *.pdf)")]
        onAccepted: root.contextStore.importFile(selectedFile.toString())
    }
}
