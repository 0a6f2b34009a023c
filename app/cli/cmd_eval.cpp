#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/eval/dataset_text.h"
#include "core/eval/perplexity.h"
#include "core/util/device.h"
#include "core/util/error.h"

namespace qs::cli {

int run_eval(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"model", true, "model directory"},
        {"dataset", true, "text file (e.g. wiki.test.raw)"},
        {"seqlen", true, "window length in tokens (default: 2048, capped at the model context)"},
        {"limit", true, "evaluate at most this many windows"},
        {"protocol", true, "how rows are joined: auto (default), wikitext, ptb, plain"},
        {"device", true, "cpu (default) or cuda:N"},
        {"json", false, "print {ppl, windows, tokens, ...} as JSON"},
        {"quiet", false, "no progress on stderr"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout
            << "usage: quantscope-cli eval --model DIR --dataset FILE --seqlen N [--limit WINDOWS] "
               "[--json]\n\n"
            << "Perplexity by the GPTQ protocol: rows joined, tokenized once, non-overlapping\n"
            << "windows of seqlen tokens (tail dropped), ppl = exp(mean NLL of all predicted "
               "tokens).\n\n"
            << format_options(specs);
        return 0;
    }
    auto device = parse_device(args.get_or("device", "cpu"));
    PerplexityOptions options;
    options.seqlen = args.get_int("seqlen", 2048);
    options.limit_windows = args.get_int("limit", 0);
    if (options.seqlen < 2) throw UsageError("--seqlen must be at least 2");
    if (options.limit_windows < 0) throw UsageError("--limit must be >= 0");
    const std::string dataset = args.get("dataset");
    const std::string text =
        load_eval_text(dataset, text_protocol_from_name(args.get_or("protocol", "auto")));

    auto model = CausalLM::open(args.get("model"), device);
    const auto context = model->config().max_position_embeddings;
    if (context > 0 && options.seqlen > context)
        throw UsageError("--seqlen " + std::to_string(options.seqlen) +
                         " exceeds the model context of " + std::to_string(context) + " tokens");
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
