// Same-machine llama.cpp reference for docs/performance.md: the prebuilt llama.cpp of node-llama-cpp
// 3.22.1 (the build issue 6 names), CPU only, timed the way `bonsai-cli bench` times our engine:
// one batch of P prompt tokens from an empty context (pp), then N single-token steps that compute the
// logits but sample nothing, as llama-bench's tg does (greedy sampling through node-llama-cpp's
// generator added ~1.8 ms per token on the 1.7B shape), from an empty context (tg), R repetitions.
// Not part of the tests.
//
//   mkdir -p /tmp/llref && cd /tmp/llref && npm install --ignore-scripts node-llama-cpp@3.22.1
//   NODE_PATH=/tmp/llref/node_modules node scripts/llama-reference-bench.mjs MODEL.gguf [P=512] [N=128] [R=2] [THREADS=2]
//
// The model must carry a tokenizer llama.cpp accepts: `bonsai-cli synth ... --vocab
// ../shared/fixtures/vocab/ggml-vocab-qwen2.gguf` (151,936 tokens, the Bonsai shape).
import {createRequire} from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH || process.cwd(), "x.js"));
const {getLlama} = await import(require.resolve("node-llama-cpp"));
const [modelPath, P = "512", N = "128", R = "2", T = "2"] = process.argv.slice(2);
if (!modelPath) {
    console.error("usage: llama-reference-bench.mjs MODEL.gguf [P] [N] [R] [THREADS]");
    process.exit(2);
}
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const ctx = await model.createContext({contextSize: Number(P) + Number(N) + 16, batchSize: Number(P), threads: Number(T), sequences: 1});
const seq = ctx.getSequence();
const tokens = (n) => Array.from({length: n}, (_, i) => 1000 + ((i * 7919) % 50000));
const pp = [], tg = [];
for (let r = 0; r < Number(R); ++r) {
    await seq.clearHistory();
    let t0 = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(tokens(Number(P)));
    pp.push(Number(P) / ((performance.now() - t0) / 1000));
    await seq.clearHistory();
    t0 = performance.now();
    for (let i = 0; i < Number(N); ++i)
        await seq.controlledEvaluate([[1000 + i, {generateNext: {token: false, probabilities: false}}]]);
    tg.push(Number(N) / ((performance.now() - t0) / 1000));
}
const fmt = (v) => v.map((x) => x.toFixed(1)).join(" / ");
console.log(`${modelPath}: pp${P} ${fmt(pp)} tok/s, tg${N} ${fmt(tg)} tok/s (threads ${T}, llama.cpp via node-llama-cpp)`);
await llama.dispose();
