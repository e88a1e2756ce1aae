import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs

// Installed models, the built-in catalog, download (URL or org/repo/file.gguf) and engine settings.
Pane {
    id: root
    objectName: "modelsPage"
    required property var models
    required property var app
    background: Rectangle { color: root.app.bg }

    ScrollView {
        anchors.fill: parent
        contentWidth: availableWidth
        ColumnLayout {
            width: parent.width
            spacing: 10

            Label { text: qsTr("Models"); font.bold: true; font.pixelSize: 20 }
            Label { text: qsTr("This machine has %1 of memory.").arg(root.models.physicalMemory); color: root.app.muted }

            // Engine settings.
            RowLayout {
                spacing: 12
                Label { text: qsTr("Backend") }
                ComboBox {
                    objectName: "backendBox"
                    model: ["auto", "cpu", "vulkan"]
                    currentIndex: Math.max(0, model.indexOf(root.models.backend))
                    Accessible.name: qsTr("Compute backend")
                    onActivated: root.models.backend = currentText
                }
                Label { text: qsTr("Threads (0 = one per CPU core)") }
                SpinBox { from: 0; to: 256; value: root.models.threads; editable: true; Accessible.name: qsTr("Threads"); onValueModified: root.models.threads = value }
                Label { text: qsTr("Context") }
                ComboBox {
                    model: [2048, 4096, 8192, 16384, 32768]
                    currentIndex: Math.max(0, model.indexOf(root.models.contextLength))
                    Accessible.name: qsTr("Context length in tokens")
                    onActivated: root.models.contextLength = model[currentIndex]
                }
            }
            ProgressBar {
                visible: root.models.loading
                value: root.models.loadFraction
                Layout.fillWidth: true
                Accessible.name: qsTr("Model loading progress")
            }
            Label { visible: root.models.loading; text: root.models.loadStage; color: root.app.muted }

            Label { text: qsTr("Installed"); font.bold: true; font.pixelSize: 16 }
            Repeater {
                model: root.models.installed
                delegate: Rectangle {
                    required property var modelData
                    Layout.fillWidth: true
                    implicitHeight: instRow.implicitHeight + 12
                    radius: 6
                    color: root.app.panel
                    border.color: modelData.active ? root.app.accent : "transparent"
                    RowLayout {
                        id: instRow
                        anchors.fill: parent
                        anchors.margins: 6
                        ColumnLayout {
                            Layout.fillWidth: true
                            spacing: 0
                            Label { text: modelData.name + (modelData.active ? qsTr("  (active)") : ""); font.bold: true }
                            Label {
                                color: root.app.muted
                                text: modelData.error.length > 0 ? modelData.error
                                      : qsTr("%1 · %2 · %3 on disk · about %4 in memory at %5 tokens")
                                          .arg(modelData.architecture).arg(modelData.tensorType).arg(modelData.sizeText)
                                          .arg(modelData.memoryText).arg(root.models.contextLength)
                            }
                        }
                        Button {
                            text: modelData.active ? qsTr("Active") : qsTr("Use")
                            enabled: !modelData.active && modelData.error.length === 0
                            Accessible.name: qsTr("Use model %1").arg(modelData.name)
                            onClicked: root.models.activate(modelData.path)
                        }
                    }
                }
            }
            Button { text: qsTr("Add model file…"); Accessible.name: qsTr("Add a model file"); onClicked: fileDialog.open() }

            Label { text: qsTr("Download"); font.bold: true; font.pixelSize: 16 }
            RowLayout {
                Layout.fillWidth: true
                TextField {
                    id: sourceField
                    objectName: "downloadSource"
                    Layout.fillWidth: true
                    placeholderText: qsTr("https://… or org/repo/file.gguf")
                    Accessible.name: qsTr("Download URL or Hugging Face file")
                }
                TextField {
                    id: shaField
                    Layout.preferredWidth: 220
                    placeholderText: qsTr("SHA-256 (optional)")
                    Accessible.name: qsTr("Expected SHA-256")
                }
                Button {
                    text: qsTr("Download")
                    enabled: !root.models.downloader.busy && sourceField.text.length > 0
                    Accessible.name: qsTr("Start download")
                    onClicked: root.models.download(sourceField.text, shaField.text)
                }
                Button {
                    text: qsTr("Cancel")
                    visible: root.models.downloader.busy
                    Accessible.name: qsTr("Cancel download")
                    onClicked: root.models.downloader.cancel()
                }
            }
            ProgressBar {
                visible: root.models.downloader.busy
                Layout.fillWidth: true
                value: root.models.downloader.fraction
                indeterminate: root.models.downloader.total <= 0
                Accessible.name: qsTr("Download progress")
            }
            Label { visible: root.models.status.length > 0; text: root.models.status; wrapMode: Text.Wrap; Layout.fillWidth: true; color: root.app.muted }

            Label { text: qsTr("Catalog of 1-bit and ternary models"); font.bold: true; font.pixelSize: 16 }
            Repeater {
                model: root.models.catalog
                delegate: Rectangle {
                    required property var modelData
                    required property int index
                    Layout.fillWidth: true
                    implicitHeight: catRow.implicitHeight + 12
                    radius: 6
                    color: root.app.panel
                    RowLayout {
                        id: catRow
                        anchors.fill: parent
                        anchors.margins: 6
                        ColumnLayout {
                            Layout.fillWidth: true
                            spacing: 0
                            Label { text: modelData.name + "  ·  " + modelData.quant; font.bold: true }
                            Label { text: modelData.source; color: root.app.muted; font.pixelSize: 11 }
                            Label {
                                color: modelData.canRun === "no" ? "#c92a2a" : root.app.muted
                                text: qsTr("%1 download · needs about %2").arg(modelData.sizeText).arg(modelData.memoryText)
                                      + (modelData.canRun === "yes" ? qsTr(" · runs on this machine")
                                         : modelData.canRun === "no" ? qsTr(" · too large for this machine") : "")
                            }
                        }
                        Button {
                            text: modelData.installed ? qsTr("Installed") : qsTr("Download")
                            enabled: !modelData.installed && !root.models.downloader.busy
                            Accessible.name: qsTr("Download %1").arg(modelData.name)
                            onClicked: root.models.downloadCatalogEntry(index)
                        }
                    }
                }
            }
        }
    }
    FileDialog {
        id: fileDialog
        title: qsTr("Add a GGUF model")
        nameFilters: [qsTr("GGUF models (*.gguf)")]
        onAccepted: root.models.addFromFile(selectedFile.toString())
    }
}
