// GPT-2-format tokenizer files (vocab.json + merges.txt, as OPT and older GPT-2 checkpoints ship
// them without a tokenizer.json) -> tokenizer.json text, the way transformers' GPT2Converter
// builds the fast tokenizer: byte-level BPE, ByteLevel pre-tokenizer (GPT-2 regex,
// add_prefix_space from tokenizer_config.json) and decoder, and the named special tokens as
// added tokens.
#pragma once

#include <string>
#include <vector>

namespace qs {

// special_tokens: contents (bos, eos, unk, pad, ...) to cut out of the text as added tokens;
// those missing from vocab.json are ignored. Throws QsError "<file>: <problem>".
std::string gpt2_files_to_tokenizer_json(const std::string& vocab_json_path,
                                         const std::string& merges_txt_path, bool add_prefix_space,
                                         const std::vector<std::string>& special_tokens);

}  // namespace qs
