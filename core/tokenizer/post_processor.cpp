// Post-processor templates; see post_processor.h.
#include "core/tokenizer/post_processor.h"

#include <nlohmann/json.hpp>

#include "core/util/error.h"

namespace qs {

namespace {

// Ids of a TemplateProcessing special token: its "special_tokens" entry, else the vocabulary.
std::vector<std::int32_t> template_ids(const nlohmann::json& spec, const std::string& name,
                                       const TokenLookup& lookup, const std::string& file)
{
    const auto& specials = spec.value("special_tokens", nlohmann::json::object());
    if (specials.is_object() && specials.contains(name) && specials[name].contains("ids"))
        return specials[name]["ids"].get<std::vector<std::int32_t>>();
    if (const auto id = lookup(name)) return {*id};
    fail_file(file, "post_processor special token '" + name + "' is not in the vocabulary");
}

// RobertaProcessing / BertProcessing store tokens as ["<s>", 0].
std::int32_t pair_id(const nlohmann::json& spec, const char* key, const std::string& file)
{
    const auto& entry = spec.value(key, nlohmann::json());
    if (!entry.is_array() || entry.size() != 2 || !entry[1].is_number_integer())
        fail_file(file, std::string("post_processor needs '") + key + "' as [token, id]");
    return entry[1].get<std::int32_t>();
}

void collect(const nlohmann::json& spec, const TokenLookup& lookup, const std::string& file,
             SpecialTokenTemplate& out)
{
    if (!spec.is_object()) return;
    const std::string type = spec.value("type", std::string());
    if (type == "Sequence") {
        for (const auto& item : spec.value("processors", nlohmann::json::array()))
            collect(item, lookup, file, out);
    } else if (type == "TemplateProcessing") {
        bool seen_sequence = false;
        for (const auto& piece : spec.value("single", nlohmann::json::array())) {
            if (piece.contains("Sequence")) {
                seen_sequence = true;
            } else if (piece.contains("SpecialToken")) {
                const std::string name = piece["SpecialToken"].value("id", std::string());
                auto ids = template_ids(spec, name, lookup, file);
                auto& side = seen_sequence ? out.suffix : out.prefix;
                side.insert(side.end(), ids.begin(), ids.end());
            }
        }
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
        out.prefix.push_back(pair_id(spec, "cls", file));
        out.suffix.push_back(pair_id(spec, "sep", file));
    }
    // ByteLevel only fixes offsets; unknown processors are taken to add nothing.
}

}  // namespace

SpecialTokenTemplate parse_post_processor(const nlohmann::json& spec, const TokenLookup& lookup,
                                          const std::string& file)
{
    SpecialTokenTemplate out;
    collect(spec, lookup, file, out);
    return out;
}

}  // namespace qs
