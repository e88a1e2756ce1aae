// A template Bonsai plugin. Copy this folder to ~/.local/share/bonsai/plugins/<your-plugin>/, change the
// id in plugin.json, and edit. See docs/plugins.md for the whole `bonsai` API.

bonsai.registerCommand('hello', function (args) {
    var name = args.trim() || bonsai.settings.get('defaultName', 'world');
    bonsai.settings.set('defaultName', name);              // remembered for next time
    // Needs the "model" permission. Callbacks run later; keep every function short (there is a time limit).
    bonsai.complete('Write one cheerful sentence greeting ' + name + '.', {
        maxTokens: 64,
        onToken: function (token) { /* streamed pieces, if you want them */ },
        onDone: function (text, error) {
            if (error) { bonsai.notify('Hello failed: ' + error); return; }
            bonsai.insertMessage(text.trim());
        }
    });
});

bonsai.registerMessageAction('shout', function (message, argument) {
    bonsai.fillComposer(message.content.toUpperCase());
});

console.log('hello plugin loaded');
