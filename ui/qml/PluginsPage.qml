import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// Plugins: what is loaded, what each may do, and the user's on/off switch.
Pane {
    id: root
    objectName: "pluginsPage"
    required property var plugins
    required property var app
    background: Rectangle { color: root.app.bg }

    ColumnLayout {
        anchors.fill: parent
        spacing: 8
        Label { text: qsTr("Plugins"); font.bold: true; font.pixelSize: 20 }
        Label {
            text: qsTr("Plugin commands are typed in the composer, e.g. /translate. Turn a plugin off to hide its commands.")
            color: root.app.muted
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
        ListView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 6
            model: root.plugins.plugins
            Accessible.name: qsTr("Plugins")
            delegate: Rectangle {
                required property var modelData
                width: ListView.view.width
                implicitHeight: pRow.implicitHeight + 12
                radius: 6
                color: root.app.panel
                RowLayout {
                    id: pRow
                    anchors.fill: parent
                    anchors.margins: 6
                    ColumnLayout {
                        Layout.fillWidth: true
                        spacing: 0
                        Label { text: modelData.name + "  " + modelData.version; font.bold: true }
                        Label { text: modelData.description; color: root.app.muted; wrapMode: Text.Wrap; Layout.fillWidth: true }
                        Label { text: qsTr("Permissions: %1").arg(modelData.permissions.length > 0 ? modelData.permissions : qsTr("none")); font.pixelSize: 12 }
                        Label { visible: modelData.commands.length > 0; text: qsTr("Commands: %1").arg(modelData.commands); font.pixelSize: 12 }
                        Label { visible: modelData.failed; text: qsTr("Disabled after an error: %1").arg(modelData.error); color: "#c92a2a"; wrapMode: Text.Wrap; Layout.fillWidth: true }
                    }
                    Switch {
                        checked: modelData.enabled
                        enabled: !modelData.failed
                        Accessible.name: qsTr("Enable %1").arg(modelData.name)
                        onToggled: root.plugins.setEnabled(modelData.id, checked)
                    }
                }
            }
            Label {
                anchors.centerIn: parent
                visible: parent.count === 0
                text: qsTr("No plugins installed")
                color: root.app.muted
            }
        }
    }
}
