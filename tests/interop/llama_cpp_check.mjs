// Runs a GGUF file in llama.cpp through node-llama-cpp (an independent client) and reports, as
// one JSON line: the perplexity of the given token ids (mean NLL of each next token, as
// QuantScope's reference perplexity is defined) and the greedy continuation compared with an
// expected one.
// Usage: node llama_cpp_check.mjs MODEL.gguf TOKENS.i32 [EXPECTED_GREEDY.i32] [N=64]
import fs from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, tokensPath, greedyPath, countArg] = process.argv.slice(2);
if (!modelPath || !tokensPath) {
    console.error("usage: node llama_cpp_check.mjs MODEL.gguf TOKENS.i32 [GREEDY.i32] [N]");
    process.exit(2);
}
// Small files share Node's buffer pool: view exactly this file's bytes.
const readI32 = (path) => {
    const b = fs.readFileSync(path);
    return Array.from(new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)));
};
const tokens = readI32(tokensPath);
const expected = greedyPath ? readI32(greedyPath) : [];
const count = Number(countArg ?? (expected.length || 64));

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath});
const contextSize = Math.max(256, tokens.length + count + 8);
// One thread: with llama.cpp's default (all cores, spin-waiting between ops) a 260K-parameter
// model spends ~35 s in thread hand-offs for 64 tokens on a 2-core machine, against 50 ms.
const threads = 1;

// Perplexity: the probability of token i+1 after tokens 0..i.
let nll = 0;
{
    const context = await model.createContext({contextSize, threads});
    const sequence = context.getSequence();
    const input = tokens.map((t, i) => i + 1 < tokens.length ? [t, {generateNext: {probabilities: true}}] : t);
    const output = await sequence.controlledEvaluate(input);
    for (let i = 0; i + 1 < tokens.length; ++i) {
        const p = output[i]?.next?.probabilities?.get(tokens[i + 1]) ?? 0;
        nll -= Math.log(Math.max(p, 1e-30));
    }
    await context.dispose();
}
const ppl = Math.exp(nll / (tokens.length - 1));

// Greedy continuation (temperature 0: argmax every step).
const generated = [];
{
    const context = await model.createContext({contextSize, threads});
    const sequence = context.getSequence();
    for await (const token of sequence.evaluate(tokens, {temperature: 0})) {
        generated.push(token);
        if (generated.length >= count) break;
    }
    await context.dispose();
}
let matching = 0;
while (matching < Math.min(generated.length, expected.length) && generated[matching] === expected[matching])
    ++matching;
console.log(JSON.stringify({model: modelPath, ppl, generated, matching_prefix: matching,
                            expected: expected.length}));
await model.dispose();
