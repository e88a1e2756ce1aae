// Translate: "/translate [to LANG] text" and the "Translate to…" message action.
//
// How it keeps the text intact: fenced code blocks, inline code and URLs are replaced by placeholders
// (⟦0⟧, ⟦1⟧ ...) before the text goes to the model, and put back afterwards; the prompt asks the model to
// keep Markdown formatting and the placeholders as they are. The source language is guessed locally (script
// ranges, then stopword counts for en/de/fr/es/it/pt/nl). The user's glossary (setting "glossary": either
// {"term": "translation"} for every language or {"de": {"term": "translation"}} per target language) is
// given to the model as fixed term translations.

var LANGUAGES = {
    en: 'English', de: 'German', fr: 'French', es: 'Spanish', it: 'Italian', pt: 'Portuguese', nl: 'Dutch',
    ru: 'Russian', uk: 'Ukrainian', el: 'Greek', ar: 'Arabic', he: 'Hebrew', ja: 'Japanese', ko: 'Korean',
    zh: 'Chinese', th: 'Thai', hi: 'Hindi', pl: 'Polish', sv: 'Swedish', da: 'Danish', no: 'Norwegian',
    fi: 'Finnish', cs: 'Czech', tr: 'Turkish', hu: 'Hungarian', ro: 'Romanian'
};
// Other spellings a user may type after "to".
var ALIASES = {
    deutsch: 'de', francais: 'fr', 'français': 'fr', espanol: 'es', 'español': 'es', italiano: 'it',
    portugues: 'pt', 'português': 'pt', nederlands: 'nl', dutch: 'nl', 'русский': 'ru', russian: 'ru',
    japanese: 'ja', '日本語': 'ja', chinese: 'zh', '中文': 'zh', korean: 'ko', greek: 'el', polish: 'pl',
    swedish: 'sv', turkish: 'tr', czech: 'cs', english: 'en', german: 'de', french: 'fr', spanish: 'es',
    italian: 'it', portuguese: 'pt'
};

var STOPWORDS = {
    en: 'the and is are was were of to in that it for on with as this be have not you at by from or but what all they we his her an which do their will would there can my your how',
    de: 'der die das und ist nicht ich sie es ein eine zu mit den dem des auf für von sich auch wir ihr sind war wie aber oder wenn noch nach bei aus einem einer hat dass kann',
    fr: 'le la les et est un une des du de que qui pas pour dans sur avec il elle nous vous ce cette sont au aux mais ou je tu se ne être avoir plus comme',
    es: 'el la los las y es un una de que en por para con no se del al lo como pero sus más está son yo tú ella nosotros muy también hay cuando',
    it: 'il lo la gli le e è un una di che per con non si del della sono come ma anche più questo questa io tu lui lei noi voi ci sia nel alla',
    pt: 'o a os as e é um uma de que em por para com não se do da dos das no na como mas mais são está eu você ele ela nós também isso muito',
    nl: 'de het een en is van dat die niet in op te zijn met voor er maar ook als aan bij om dan wat wel nog ik je hij zij wij ze naar heeft deze'
};
var STOPSETS = {};
Object.keys(STOPWORDS).forEach(function (lang) {
    var set = {};
    STOPWORDS[lang].split(' ').forEach(function (w) { set[w] = true; });
    STOPSETS[lang] = set;
});

function countMatches(text, re) {
    var m = text.match(re);
    return m ? m.length : 0;
}

// Returns a language code, or '' when unsure.
function detectLanguage(text) {
    var letters = countMatches(text, /[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF\u0590-\u05FF\u0600-\u06FF\u0900-\u097F\u0E00-\u0E7F\u3040-\u30FF\u4E00-\u9FFF\uAC00-\uD7AF]/g);
    if (letters === 0) return '';
    var scripts = [
        ['ja', /[\u3040-\u30FF]/g], ['ko', /[\uAC00-\uD7AF]/g], ['zh', /[\u4E00-\u9FFF]/g],
        ['el', /[\u0370-\u03FF]/g], ['ru', /[\u0400-\u04FF]/g], ['he', /[\u0590-\u05FF]/g],
        ['ar', /[\u0600-\u06FF]/g], ['hi', /[\u0900-\u097F]/g], ['th', /[\u0E00-\u0E7F]/g]
    ];
    for (var i = 0; i < scripts.length; ++i) {
        var n = countMatches(text, scripts[i][1]);
        // Kana decides Japanese even among many kanji; otherwise a script must make up a good share.
        if ((scripts[i][0] === 'ja' && n > 0) || n / letters > 0.3) {
            if (scripts[i][0] === 'ru' && /[іїєґІЇЄҐ]/.test(text)) return 'uk';
            return scripts[i][0];
        }
    }
    var words = text.toLowerCase().match(/[a-z\u00C0-\u024F']+/g) || [];
    var best = '', bestScore = 0;
    Object.keys(STOPSETS).forEach(function (lang) {
        var score = 0;
        words.forEach(function (w) { if (STOPSETS[lang][w]) score += 1; });
        // Letters only one of these languages uses tip close calls.
        if (lang === 'de') score += 2 * countMatches(text, /[ßäöüÄÖÜ]/g);
        if (lang === 'es') score += 2 * countMatches(text, /[ñ¿¡]/g);
        if (lang === 'pt') score += 2 * countMatches(text, /[ãõ]/g);
        if (lang === 'fr') score += countMatches(text, /[èêëàâœç]/g);
        if (lang === 'it') score += countMatches(text, /\b\w+[àèìòù]\b/g);
        if (lang === 'nl') score += 2 * countMatches(text.toLowerCase(), /\b\w*ij\w*\b/g);
        if (score > bestScore) { best = lang; bestScore = score; }
    });
    return bestScore > 0 ? best : '';
}

function languageCode(word) {
    var w = String(word || '').toLowerCase().trim();
    if (LANGUAGES[w]) return w;
    if (ALIASES[w]) return ALIASES[w];
    var codes = Object.keys(LANGUAGES);
    for (var i = 0; i < codes.length; ++i) if (LANGUAGES[codes[i]].toLowerCase() === w) return codes[i];
    return '';
}

function languageName(code) { return LANGUAGES[code] || code; }

// Replaces fenced code blocks, inline code and URLs by ⟦n⟧; returns {text, parts}.
function mask(text) {
    var parts = [];
    function keep(s) { parts.push(s); return '\u27E6' + (parts.length - 1) + '\u27E7'; }
    // Fenced blocks: ``` or ~~~ (3 or more) up to a closing fence of the same kind, or the end of the text.
    var out = text.replace(/^[ \t]*(`{3,}|~{3,})[^\n]*(?:\n[\s\S]*?)?(?:\n[ \t]*\1[`~]*[ \t]*(?=\n|$)|(?![\s\S]))/gm, keep);
    out = out.replace(/(`+)[^`\n]+?\1/g, keep);
    out = out.replace(/\b(?:https?|ftp|mailto):[^\s)<>\]]+/g, keep);
    return { text: out, parts: parts };
}

// Puts the masked parts back; parts the model dropped are appended (and counted).
function unmask(text, parts) {
    var used = {};
    var out = text.replace(/\u27E6\s*(\d+)\s*\u27E7/g, function (m, n) {
        var i = parseInt(n, 10);
        if (i >= parts.length) return m;
        used[i] = true;
        return parts[i];
    });
    var missing = 0;
    for (var i = 0; i < parts.length; ++i) {
        if (!used[i]) { out += '\n\n' + parts[i]; missing++; }
    }
    return { text: out, missing: missing };
}

// The glossary entries for `target` whose term occurs in `text`.
function glossaryFor(target, text) {
    var g = bonsai.settings.get('glossary', {});
    if (!g || typeof g !== 'object') return [];
    var entries = {};
    Object.keys(g).forEach(function (k) {
        if (typeof g[k] === 'string') entries[k] = g[k];
    });
    var perLang = g[target];
    if (perLang && typeof perLang === 'object') Object.keys(perLang).forEach(function (k) {
        if (typeof perLang[k] === 'string') entries[k] = perLang[k];
    });
    var lower = text.toLowerCase();
    return Object.keys(entries).filter(function (term) {
        return term.length > 0 && lower.indexOf(term.toLowerCase()) >= 0;
    }).slice(0, 50).map(function (term) { return [term, entries[term]]; });
}

function buildPrompt(text, target) {
    var masked = mask(text);
    var source = detectLanguage(masked.text.replace(/\u27E6\d+\u27E7/g, ' '));
    var sys = 'You are a translation engine. Translate the user\'s text ' +
        (source ? 'from ' + languageName(source) + ' ' : '') + 'to ' + languageName(target) + '.\n' +
        'Keep the Markdown formatting exactly as it is: headings, lists, emphasis, links, tables and line breaks.\n';
    if (masked.parts.length > 0)
        sys += 'Markers like \u27E60\u27E7 stand for code or links: copy every marker unchanged, in the right place, and never translate or remove one.\n';
    var glossary = glossaryFor(target, masked.text);
    if (glossary.length > 0) {
        sys += 'Always translate these terms exactly as given:\n';
        glossary.forEach(function (e) { sys += '- "' + e[0] + '" \u2192 "' + e[1] + '"\n'; });
    }
    sys += 'Answer with the translation only, without notes or quotes.';
    return {
        messages: [{ role: 'system', content: sys }, { role: 'user', content: masked.text }],
        parts: masked.parts, source: source
    };
}

function translate(text, target) {
    var p = buildPrompt(text, target);
    bonsai.complete(p.messages, {
        temperature: 0.2,
        onDone: function (reply, error) {
            if (error) { bonsai.notify('Translation failed: ' + error); return; }
            var r = unmask(reply.trim(), p.parts);
            if (r.missing > 0) bonsai.notify('The model dropped ' + r.missing + ' code block(s) or link(s); they were appended unchanged.');
            bonsai.insertMessage(r.text);
        }
    });
}

function defaultTarget() {
    var t = languageCode(bonsai.settings.get('targetLanguage', 'en'));
    return t || 'en';
}

function glossaryCommand(rest) {
    var g = bonsai.settings.get('glossary', {});
    if (!g || typeof g !== 'object') g = {};
    var m = /^(.+?)\s*=\s*(.*)$/.exec(rest);
    if (!m) {
        var lines = Object.keys(g).filter(function (k) { return typeof g[k] === 'string'; })
            .map(function (k) { return k + ' = ' + g[k]; });
        bonsai.notify(lines.length ? 'Glossary:\n' + lines.join('\n') : 'The glossary is empty. Add a term with /translate glossary TERM = TRANSLATION');
        return;
    }
    if (m[2] === '') delete g[m[1]]; else g[m[1]] = m[2];
    bonsai.settings.set('glossary', g);
    bonsai.notify(m[2] === '' ? 'Removed "' + m[1] + '" from the glossary.' : 'Glossary: "' + m[1] + '" \u2192 "' + m[2] + '"');
}

bonsai.registerCommand('translate', function (args) {
    var text = args;
    var target = '';
    var g = /^glossary\b\s*([\s\S]*)$/.exec(text);
    if (g) { glossaryCommand(g[1].trim()); return; }
    var m = /^to\s+(\S+)\s*([\s\S]*)$/i.exec(text);
    if (m && languageCode(m[1])) { target = languageCode(m[1]); text = m[2]; }
    else if (m) { bonsai.notify('Unknown language "' + m[1] + '". Try a code such as de, fr, es or a name such as German.'); return; }
    if (!target) target = defaultTarget();
    if (!text.trim()) {
        var sel = bonsai.selectedMessage();
        if (!sel) { bonsai.notify('Usage: /translate [to LANG] text — or select a message first.'); return; }
        text = sel.content;
    }
    translate(text, target);
});

bonsai.registerMessageAction('translate-to', function (message, language) {
    var target = languageCode(language) || defaultTarget();
    translate(message.content, target);
});
