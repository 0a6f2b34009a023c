// Evaluation text as the GPTQ reference (datautils.py) builds it from a Hugging Face dataset:
//  - WikiText-style files (default): every line is a dataset row; a row that is only whitespace
//    becomes "" (as the HF wikitext loader yields it), others keep their trailing "\n"; rows
//    are joined with "\n\n".
//  - PTB (file name contains "ptb"): rows are the stripped lines, joined with " ".
//  - Plain: the file as it is (a single text such as a story).
// A file with a single line and no newline reads the same under every protocol but PTB.
#pragma once

#include <string>

namespace qs {

enum class TextProtocol { Auto, Wikitext, Ptb, Plain };

TextProtocol text_protocol_from_name(const std::string& name);  // "auto", "wikitext", ...

// Reads and validates (UTF-8, non-empty) the file; throws QsError "<path>: <problem>".
std::string load_eval_text(const std::string& path, TextProtocol protocol = TextProtocol::Auto);

}  // namespace qs
