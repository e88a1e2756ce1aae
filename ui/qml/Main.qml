import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// The main window: sidebar (conversations, search, navigation) and the pages. Every view model comes
// in as an initial property from ui/src/main_window_loader.cpp.
ApplicationWindow {
    id: window
    objectName: "mainWindow"
    width: 1180
    height: 760
    visible: true
    title: qsTr("Bonsai")

    required property var chat
    required property var sidebar
    required property var models
    required property var contextStore
    required property var plugins
    required property var settings

    // Theme: the setting, or the system palette's lightness for "system".
    SystemPalette { id: systemPalette }
    readonly property bool dark: settings.theme === "dark"
                                 || (settings.theme === "system" && systemPalette.window.hslLightness < 0.5)
    readonly property color bg: dark ? "#1e1f22" : "#ffffff"
    readonly property color panel: dark ? "#2b2d30" : "#f3f4f6"
    readonly property color fg: dark ? "#dfe1e5" : "#1f2328"
    readonly property color muted: dark ? "#9da0a8" : "#6a737d"
    readonly property color accent: "#2f7d4f"
    readonly property color cloudColor: "#b35900"
    palette.window: bg
    palette.base: dark ? "#2b2d30" : "#ffffff"
    palette.text: fg
    palette.windowText: fg
    palette.buttonText: fg
    palette.button: dark ? "#3c3f41" : "#e9ecef"
    palette.placeholderText: muted
    color: bg
    onDarkChanged: chat.messages.dark = dark
    Component.onCompleted: chat.messages.dark = dark

    property alias currentPage: pages.currentIndex
    function showPage(i) { pages.currentIndex = i }

    Shortcut { sequence: "Ctrl+N"; onActivated: { window.showPage(0); window.chat.newChat(); chatPage.focusComposer() } }
    Shortcut { sequence: "Ctrl+F"; onActivated: sidebarView.focusSearch() }
    Shortcut { sequence: "Ctrl+K"; onActivated: modelSwitcher.open() }
    Shortcut { sequence: "Esc"; enabled: window.chat.busy; onActivated: window.chat.stop() }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        Sidebar {
            id: sidebarView
            Layout.preferredWidth: 280
            Layout.fillHeight: true
            sidebar: window.sidebar
            chat: window.chat
            app: window
        }

        StackLayout {
            id: pages
            objectName: "pages"
            Layout.fillWidth: true
            Layout.fillHeight: true
            ChatPage { id: chatPage; chat: window.chat; models: window.models; app: window }
            ModelsPage { models: window.models; app: window }
            ContextPage { contextStore: window.contextStore; app: window }
            PluginsPage { plugins: window.plugins; app: window }
            SettingsPage { settings: window.settings; models: window.models; app: window }
        }
    }

    // Ctrl+K: pick the local model.
    Popup {
        id: modelSwitcher
        objectName: "modelSwitcher"
        anchors.centerIn: parent
        width: 460
        height: Math.min(420, 80 + switcherList.contentHeight)
        modal: true
        focus: true
        ColumnLayout {
            anchors.fill: parent
            Label { text: qsTr("Switch local model"); font.bold: true }
            ListView {
                id: switcherList
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                model: window.models.installed
                Accessible.name: qsTr("Installed models")
                delegate: ItemDelegate {
                    required property var modelData
                    width: ListView.view.width
                    text: modelData.name + "  ·  " + modelData.tensorType + "  ·  " + modelData.sizeText
                    highlighted: modelData.active
                    Accessible.name: qsTr("Use model %1").arg(modelData.name)
                    onClicked: { window.models.activate(modelData.path); modelSwitcher.close() }
                }
            }
        }
    }
}
