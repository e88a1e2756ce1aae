import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// Settings: cloud endpoint and key, sampling defaults, theme, local server.
Pane {
    id: root
    objectName: "settingsPage"
    required property var settings
    required property var models
    required property var app
    background: Rectangle { color: root.app.bg }

    ScrollView {
        anchors.fill: parent
        contentWidth: availableWidth
        GridLayout {
            width: parent.width
            columns: 2
            columnSpacing: 12
            rowSpacing: 8

            Label { text: qsTr("Settings"); font.bold: true; font.pixelSize: 20; Layout.columnSpan: 2 }

            Label { text: qsTr("Cloud"); font.bold: true; font.pixelSize: 16; Layout.columnSpan: 2 }
            Label { text: qsTr("Endpoint (OpenAI-compatible)") }
            TextField {
                Layout.fillWidth: true
                text: root.settings.cloudBaseUrl
                Accessible.name: qsTr("Cloud endpoint URL")
                onEditingFinished: root.settings.cloudBaseUrl = text
            }
            Label { text: qsTr("Model") }
            TextField {
                Layout.fillWidth: true
                text: root.settings.cloudModel
                Accessible.name: qsTr("Cloud model name")
                onEditingFinished: root.settings.cloudModel = text
            }
            Label { text: qsTr("API key") }
            RowLayout {
                Layout.fillWidth: true
                TextField {
                    id: keyField
                    Layout.fillWidth: true
                    echoMode: TextInput.Password
                    placeholderText: root.settings.hasApiKey ? qsTr("A key is saved; type to replace it") : qsTr("sk-…")
                    Accessible.name: qsTr("API key")
                }
                Button { text: qsTr("Save key"); Accessible.name: qsTr("Save API key"); onClicked: { root.settings.setApiKey(keyField.text); keyField.text = "" } }
                Button { text: qsTr("Remove"); visible: root.settings.hasApiKey; Accessible.name: qsTr("Remove API key"); onClicked: root.settings.setApiKey("") }
            }
            Label { visible: root.settings.status.length > 0; text: root.settings.status; color: root.app.muted; Layout.columnSpan: 2 }

            Label { text: qsTr("Sampling defaults"); font.bold: true; font.pixelSize: 16; Layout.columnSpan: 2 }
            Label { text: qsTr("Temperature: %1").arg(root.settings.temperature.toFixed(2)) }
            Slider { from: 0; to: 2; stepSize: 0.05; value: root.settings.temperature; Accessible.name: qsTr("Temperature"); onMoved: root.settings.temperature = value }
            Label { text: qsTr("Top-p: %1").arg(root.settings.topP.toFixed(2)) }
            Slider { from: 0; to: 1; stepSize: 0.01; value: root.settings.topP; Accessible.name: qsTr("Top-p"); onMoved: root.settings.topP = value }
            Label { text: qsTr("Longest answer (tokens)") }
            SpinBox { from: 16; to: 32768; stepSize: 64; editable: true; value: root.settings.maxTokens; Accessible.name: qsTr("Maximum answer tokens"); onValueModified: root.settings.maxTokens = value }

            Label { text: qsTr("Appearance"); font.bold: true; font.pixelSize: 16; Layout.columnSpan: 2 }
            Label { text: qsTr("Theme") }
            ComboBox {
                objectName: "themeBox"
                model: ["system", "light", "dark"]
                displayText: currentText === "system" ? qsTr("System") : currentText === "light" ? qsTr("Light") : qsTr("Dark")
                currentIndex: Math.max(0, model.indexOf(root.settings.theme))
                Accessible.name: qsTr("Theme")
                onActivated: root.settings.theme = currentText
            }

            Label { text: qsTr("Local server"); font.bold: true; font.pixelSize: 16; Layout.columnSpan: 2 }
            Label { text: qsTr("OpenAI-compatible server on 127.0.0.1") }
            Switch { checked: root.settings.localServer; Accessible.name: qsTr("Run the local server"); onToggled: root.settings.localServer = checked }
            Label {
                objectName: "serverStatus"
                Layout.columnSpan: 2
                text: root.settings.serverStatus
                visible: text.length > 0
                opacity: 0.8
            }
        }
    }
}
