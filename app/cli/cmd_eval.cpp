#include <algorithm>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/cli_args.h"
#include "app/cli/cli_inputs.h"
#include "app/cli/commands.h"
#include "core/eval/dataset_text.h"
#include "core/eval/perplexity.h"
#include "core/model/compute_dtype.h"
#include "core/util/device.h"
#include "core/util/error.h"

namespace qs::cli {

int run_eval(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"model", true, "model folder (required)", "DIR"},
        {"dataset", true, "UTF-8 text file, e.g. WikiText-2's wiki.test.raw (required)", "FILE"},
        {"seqlen", true,
         "window length in tokens (default: 2048, or the model context when "
         "shorter)",
         "N"},
        {"limit", true, "evaluate at most this many windows (default 0: every window)", "N"},
        {"protocol", true,
         "how lines become the text: wikitext (rows joined with a blank line), ptb (stripped "
         "lines joined with a space), plain (the file as it is), auto (default: ptb when the "
         "file name contains \"ptb\", else wikitext)",
         "NAME"},
        {"device", true, "cpu (default) or cuda:N", "DEV"},
        {"dtype", true,
         "compute dtype: fp32 (default), bf16 or fp16; weights are cast as they load, norms, "
         "softmax and the loss stay fp32",
         "TYPE"},
        {"json", false, "print {ppl, windows, tokens, ...} as JSON"},
        {"quiet", false, "no progress on stderr"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << format_help(
            {{"quantscope-cli eval --model DIR --dataset FILE [--seqlen N] [--limit WINDOWS] "
              "[--dtype TYPE] [--json]"},
             "Measures the perplexity of a model on a text file by the GPTQ protocol.",
             "Rows are joined, the text is tokenized once, cut into non-overlapping windows of\n"
             "--seqlen tokens (the tail is dropped) and ppl = exp(mean NLL of every predicted "
             "token).\nA text shorter than one window is scored as one partial window.\n",
             {"quantscope-cli eval --model ../shared/models/stories260K/hf \\",
              "    --dataset ../shared/data/wikitext-2-raw/wiki.test.raw --seqlen 512"}},
            specs);
        return 0;
    }
    auto device = parse_device(args.get_or("device", "cpu"));
    const auto dtype = compute_dtype_arg(args);
    PerplexityOptions options;
    options.limit_windows = args.get_int("limit", 0);
    if (args.has("seqlen") && args.get_int("seqlen", 0) < 2)
        throw UsageError("--seqlen must be at least 2");
    if (options.limit_windows < 0) throw UsageError("--limit must be >= 0");
    const std::string dataset = text_file_arg(args, "dataset", "dataset");
    const std::string text =
        load_eval_text(dataset, text_protocol_from_name(args.get_or("protocol", "auto")));

    auto model = CausalLM::open(model_dir_arg(args), device, /*with_tokenizer=*/true, dtype);
    const auto context = model->config().max_position_embeddings;
    // Without --seqlen: 2048 tokens (the papers' window), or the whole context when shorter.
    options.seqlen =
        args.get_int("seqlen", context > 0 ? std::min<std::int64_t>(2048, context) : 2048);
    if (context > 0 && options.seqlen > context)
        throw UsageError("--seqlen " + std::to_string(options.seqlen) +
                         " exceeds the model context of " + std::to_string(context) +
                         " tokens (use --seqlen " + std::to_string(context) + " or less)");
    const bool quiet = args.has("quiet");
    if (!quiet) std::fprintf(stderr, "tokenizing %s (%zu bytes)\n", dataset.c_str(), text.size());
    auto tokens = model->tokenizer().encode(text);
    if (tokens.size() < 2)
        fail_file(dataset, "dataset is shorter than one window (" + std::to_string(tokens.size()) +
                               " token)");
    if (std::int64_t(tokens.size()) < options.seqlen && !quiet)
        std::fprintf(stderr,
                     "note: %s has %zu tokens, fewer than --seqlen %lld: scoring it as one window "
                     "of %zu tokens\n",
                     dataset.c_str(), tokens.size(), static_cast<long long>(options.seqlen),
                     tokens.size());

    Feedback feedback;
    attach_stderr_progress(feedback, quiet);
    auto r = evaluate_perplexity(*model, tokens, options, &feedback);
    if (args.has("json")) {
        nlohmann::json j{{"ppl", r.ppl},
                         {"mean_nll", r.mean_nll},
                         {"windows", r.windows},
                         {"seqlen", r.window_length},
                         {"tokens", r.tokens},
                         {"scored_tokens", r.scored_tokens},
                         {"partial_window", r.partial_window},
                         {"seconds", r.seconds},
                         {"dtype", compute_dtype_name(dtype)},
                         {"dataset", dataset},
                         {"model", model->directory()}};
        std::cout << j.dump() << "\n";
    } else {
        std::printf(
            "perplexity %.6f  (%lld windows of %lld tokens, %lld tokens in the dataset, %.1f s)\n",
            r.ppl, static_cast<long long>(r.windows), static_cast<long long>(r.window_length),
            static_cast<long long>(r.tokens), r.seconds);
    }
    return 0;
}

}  // namespace qs::cli
