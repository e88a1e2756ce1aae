// Code help: /explain, /review, /fix and /tests on a fenced block or pasted code (or, with no argument,
// the code blocks of the selected message), and the same four as message actions on a code block.
//
// The language comes from the fence's info string when there is one, else from a few weighted patterns
// per language. The prompt names the language and asks for an answer whose code is in fenced blocks.

var NAMES = {
    c: 'C', cpp: 'C++', python: 'Python', javascript: 'JavaScript', typescript: 'TypeScript', shell: 'Shell',
    json: 'JSON', rust: 'Rust', go: 'Go', java: 'Java', csharp: 'C#', ruby: 'Ruby', php: 'PHP', sql: 'SQL',
    kotlin: 'Kotlin', swift: 'Swift', html: 'HTML', css: 'CSS', yaml: 'YAML', toml: 'TOML', lua: 'Lua'
};
// Fence info strings and their canonical language.
var FENCE = {
    c: 'c', h: 'c', 'c++': 'cpp', cpp: 'cpp', cc: 'cpp', cxx: 'cpp', hpp: 'cpp', py: 'python', python: 'python',
    python3: 'python', js: 'javascript', javascript: 'javascript', jsx: 'javascript', mjs: 'javascript',
    ts: 'typescript', typescript: 'typescript', tsx: 'typescript', sh: 'shell', bash: 'shell', zsh: 'shell',
    shell: 'shell', console: 'shell', json: 'json', jsonc: 'json', rs: 'rust', rust: 'rust', go: 'go',
    golang: 'go', java: 'java', cs: 'csharp', csharp: 'csharp', rb: 'ruby', ruby: 'ruby', php: 'php',
    sql: 'sql', kt: 'kotlin', kotlin: 'kotlin', swift: 'swift', html: 'html', css: 'css', yaml: 'yaml',
    yml: 'yaml', toml: 'toml', lua: 'lua'
};
var TEST_FRAMEWORK = {
    python: 'pytest', javascript: 'Jest', typescript: 'Jest', cpp: 'GoogleTest', c: 'a small assert-based test program',
    rust: '#[test] functions in a tests module', go: 'the testing package (table-driven tests)', shell: 'bats',
    java: 'JUnit 5', csharp: 'xUnit', ruby: 'RSpec', php: 'PHPUnit', kotlin: 'JUnit 5', swift: 'XCTest'
};

// [language, weight, pattern]: the heaviest total wins.
var HEURISTICS = [
    ['cpp', 4, /#include\s*<(iostream|vector|string|memory|map|algorithm)>/],
    ['cpp', 3, /\bstd::|\bnamespace\s+\w+|\btemplate\s*<|\bclass\s+\w+\s*(:\s*public|\{)|\bnullptr\b|\bauto\s+\w+\s*=|::/],
    ['c', 3, /#include\s*<(stdio|stdlib|string|stdint|unistd)\.h>/],
    ['c', 1, /\bprintf\s*\(|\bmalloc\s*\(|\bint\s+main\s*\(/],
    ['cpp', 1, /#include\s*[<"]/],
    ['python', 4, /^\s*def\s+\w+\s*\(.*\)\s*(->\s*[\w\[\], .]+)?:\s*$/m],
    ['python', 3, /^\s*(from\s+[\w.]+\s+import\s+\w+|import\s+\w+(\s+as\s+\w+)?\s*$)/m],
    ['python', 2, /^\s*(elif\s.*:|class\s+\w+(\(.*\))?:|for\s+\w+\s+in\s+.*:|if\s+__name__\s*==)/m],
    ['python', 1, /\bself\.\w+|\bNone\b|\bTrue\b|\bprint\(/],
    ['typescript', 4, /\binterface\s+\w+\s*\{|:\s*(string|number|boolean|any|void)\b|\btype\s+\w+\s*=|\bas\s+const\b/],
    ['javascript', 3, /\b(const|let|var)\s+\w+\s*=|=>|\bfunction\s*\w*\s*\(|console\.log|\brequire\(|\bmodule\.exports\b|\bexport\s+default\b/],
    ['shell', 5, /^#!\s*\/(usr\/)?bin\/(env\s+)?(ba|z)?sh\b/],
    ['python', 5, /^#!\s*\/(usr\/)?bin\/(env\s+)?python/],
    ['shell', 2, /^\s*(echo|cd|ls|export|sudo|apt(-get)?|grep|mkdir|rm|chmod|curl|git)\s/m],
    ['shell', 2, /^\s*(if\s+\[|for\s+\w+\s+in\s+[^:]*;\s*do|fi$|done$)|\$\{?\w+\}?/m],
    ['rust', 4, /\bfn\s+\w+\s*(<[^>]*>)?\s*\([^)]*\)\s*(->\s*[^{]+)?\{|\blet\s+mut\b|\bimpl\b|\bprintln!\(|\buse\s+std::|&mut\s/],
    ['go', 5, /^\s*package\s+\w+\s*$/m],
    ['go', 3, /\bfunc\s+(\(\w+\s+\*?\w+\)\s*)?\w+\s*\(|:=|\bfmt\.\w+\(/],
    ['java', 4, /\bpublic\s+(static\s+)?(class|void|final)\b|System\.out\.println/],
    ['sql', 4, /^\s*(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|CREATE\s+TABLE)\b/im]
];

function detectLanguage(code, info) {
    var tag = String(info || '').trim().split(/\s+/)[0].toLowerCase();
    if (tag && FENCE[tag]) return FENCE[tag];
    var t = code.trim();
    if (/^[\[{]/.test(t)) {
        try { JSON.parse(t); return 'json'; } catch (e) { /* not JSON: go on */ }
    }
    var scores = {};
    HEURISTICS.forEach(function (h) {
        if (h[2].test(code)) scores[h[0]] = (scores[h[0]] || 0) + h[1];
    });
    // TypeScript is JavaScript with types: its patterns add to JavaScript's.
    if (scores.typescript) scores.typescript += scores.javascript || 0;
    var best = '', bestScore = 0;
    Object.keys(scores).forEach(function (k) { if (scores[k] > bestScore) { best = k; bestScore = scores[k]; } });
    return best;
}

// Fenced blocks of a Markdown text: [{info, code}], plus the text around them.
function codeBlocks(text) {
    var blocks = [];
    var re = /^[ \t]*(`{3,}|~{3,})([^\n`]*)\n([\s\S]*?)(?:\n[ \t]*\1[`~]*[ \t]*(?=\n|$)|(?![\s\S]))/gm;
    var rest = text.replace(re, function (m, fence, info, code) {
        blocks.push({ info: info.trim(), code: code });
        return '';
    });
    return { blocks: blocks, rest: rest.trim() };
}

var TASKS = {
    explain: function (name) {
        return 'Explain what this ' + name + ' code does: first a one-paragraph summary, then the important parts step by step. ' +
            'Quote the lines you talk about in fenced code blocks.';
    },
    review: function (name) {
        return 'Review this ' + name + ' code like a careful senior engineer: bugs first, then risks (security, edge cases, ' +
            'performance), then readability. For each finding show the improved code in a fenced code block.';
    },
    fix: function (name) {
        return 'Find and fix the bugs in this ' + name + ' code. Answer with the complete corrected code in one fenced ' +
            'code block, then a short list of what you changed and why.';
    },
    tests: function (name, lang) {
        return 'Write unit tests for this ' + name + ' code' + (TEST_FRAMEWORK[lang] ? ' using ' + TEST_FRAMEWORK[lang] : '') +
            '. Cover normal cases, edge cases and errors. Answer with the test code in fenced code blocks and one line on how to run them.';
    }
};

function buildPrompt(task, code, info, note) {
    var lang = detectLanguage(code, info);
    var name = NAMES[lang] || 'the';
    var fenceTag = lang === 'cpp' ? 'cpp' : (lang || '');
    var sys = 'You are an expert ' + (NAMES[lang] ? NAMES[lang] + ' ' : '') + 'programmer helping a colleague. ' +
        'Answer in Markdown and put every piece of code in a fenced code block with a language tag' +
        (fenceTag ? ' (```' + fenceTag + ')' : '') + '.';
    var user = TASKS[task](name === 'the' ? '' : name, lang).replace(/this {2}code/, 'this code') + '\n\n' +
        '```' + fenceTag + '\n' + code.replace(/\n$/, '') + '\n```';
    if (note) user += '\n\nNote from the user: ' + note;
    return { language: lang, messages: [{ role: 'system', content: sys }, { role: 'user', content: user }] };
}

function run(task, code, info, note) {
    var p = buildPrompt(task, code, info, note);
    bonsai.complete(p.messages, {
        temperature: 0.2,
        onDone: function (reply, error) {
            if (error) { bonsai.notify('Code help failed: ' + error); return; }
            bonsai.insertMessage(reply.trim());
        }
    });
}

// A command's argument: fenced blocks (the text around them is a note), or the whole text as code, or
// nothing: the selected message's blocks.
function runCommand(task, args) {
    var text = args;
    if (!text.trim()) {
        var sel = bonsai.selectedMessage();
        if (!sel) { bonsai.notify('Usage: /' + task + ' CODE — paste code or a fenced block, or select a message with code.'); return; }
        text = sel.content;
        var fromMessage = codeBlocks(text);
        if (fromMessage.blocks.length === 0) { bonsai.notify('The selected message has no code block.'); return; }
        var b = fromMessage.blocks[0];
        run(task, b.code, b.info, '');
        return;
    }
    var parsed = codeBlocks(text);
    if (parsed.blocks.length === 0) { run(task, text, '', ''); return; }
    // Several blocks: one request with all of them (they usually belong together).
    var code = parsed.blocks.map(function (b) { return b.code; }).join('\n\n');
    run(task, code, parsed.blocks[0].info, parsed.rest);
}

// A message action's argument is the code block the user clicked (its text, optionally with its fence);
// without one, the message's first block.
function runAction(task, message, argument) {
    var parsed = codeBlocks(argument || '');
    if (parsed.blocks.length > 0) { run(task, parsed.blocks[0].code, parsed.blocks[0].info, ''); return; }
    if (argument && argument.trim()) { run(task, argument, '', ''); return; }
    var inMessage = codeBlocks(message.content);
    if (inMessage.blocks.length === 0) { bonsai.notify('This message has no code block.'); return; }
    run(task, inMessage.blocks[0].code, inMessage.blocks[0].info, '');
}

['explain', 'review', 'fix', 'tests'].forEach(function (task) {
    bonsai.registerCommand(task, function (args) { runCommand(task, args); });
    bonsai.registerMessageAction(task + '-code', function (message, argument) { runAction(task, message, argument); });
});
