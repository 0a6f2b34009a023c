// BPE model; see bpe_model.h. merge_word() and merge_all() follow HF's bpe/model.rs and
// bpe/word.rs step by step, including the order in which a pending unknown token and byte
// fallback tokens are emitted.
#include "core/tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "core/tokenizer/utf8.h"
#include "core/util/error.h"

namespace qs {

BpeModel::BpeModel(std::unordered_map<std::string, std::int32_t> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options, const std::string& source)
    : m_vocab(std::move(vocab)), m_options(std::move(options))
{
    std::int32_t max_id = -1;
    for (const auto& [token, id] : m_vocab) {
        if (id < 0) fail_file(source, "vocab entry '" + token + "' has a negative id");
        max_id = std::max(max_id, id);
    }
    m_tokens.assign(static_cast<std::size_t>(max_id + 1), std::string());
    m_has_token.assign(m_tokens.size(), false);
    for (const auto& [token, id] : m_vocab) {
        m_tokens[static_cast<std::size_t>(id)] = token;
        m_has_token[static_cast<std::size_t>(id)] = true;
    }
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        const auto it = m_vocab.find(name);
        m_byte_ids[static_cast<std::size_t>(b)] = it == m_vocab.end() ? -1 : it->second;
    }
    if (m_options.unk_token) {
        // HF only fails when the unknown token is needed; remembering its absence is enough.
        if (const auto it = m_vocab.find(*m_options.unk_token); it != m_vocab.end())
            m_unk_id = it->second;
    }
    const std::size_t prefix_len = m_options.continuing_subword_prefix.size();
    m_merges.reserve(merges.size());
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& [left, right] = merges[rank];
        const auto a = m_vocab.find(left);
        const auto b = m_vocab.find(right);
        const std::string entry = "merges entry " + std::to_string(rank);
        if (a == m_vocab.end())
            fail_file(source, entry + " references unknown token '" + left + "'");
        if (b == m_vocab.end())
            fail_file(source, entry + " references unknown token '" + right + "'");
        // With a continuing-subword prefix the right side carries it and the merge drops it.
        const std::string merged =
            left + (prefix_len > 0 && right.starts_with(m_options.continuing_subword_prefix)
                        ? right.substr(prefix_len)
                        : right);
        const auto m = m_vocab.find(merged);
        if (m == m_vocab.end())
            fail_file(source, entry + " references unknown token '" + merged + "'");
        // A repeated pair keeps its last rank, as HF's HashMap collect does.
        m_merges[pair_key(a->second, b->second)] =
            Merge{static_cast<std::uint32_t>(rank), m->second};
    }
}

std::optional<std::int32_t> BpeModel::token_to_id(std::string_view token) const
{
    const auto it = m_vocab.find(std::string(token));
    if (it == m_vocab.end()) return std::nullopt;
    return it->second;
}

const std::string* BpeModel::id_to_token(std::int32_t id) const
{
    if (id < 0 || static_cast<std::size_t>(id) >= m_tokens.size() ||
        !m_has_token[static_cast<std::size_t>(id)])
        return nullptr;
    return &m_tokens[static_cast<std::size_t>(id)];
}

const BpeModel::Merge* BpeModel::find_merge(std::int32_t a, std::int32_t b) const
{
    const auto it = m_merges.find(pair_key(a, b));
    return it == m_merges.end() ? nullptr : &it->second;
}

void BpeModel::tokenize(std::string_view word, std::vector<std::int32_t>& out) const
{
    if (word.empty()) return;
    if (m_options.ignore_merges) {
        if (const auto id = token_to_id(word)) {
            out.push_back(*id);
            return;
        }
    }
    std::vector<std::int32_t> symbols;
    symbols.reserve(word.size());
    std::optional<std::int32_t> pending_unk;
    std::string piece;
    std::size_t pos = 0;
    while (pos < word.size()) {
        const std::size_t start = pos;
        pos += std::min(utf8_char_len(static_cast<unsigned char>(word[pos])), word.size() - pos);
        piece.clear();
        if (start > 0) piece += m_options.continuing_subword_prefix;
        piece.append(word.substr(start, pos - start));
        if (pos == word.size()) piece += m_options.end_of_word_suffix;

        if (const auto it = m_vocab.find(piece); it != m_vocab.end()) {
            if (pending_unk) symbols.push_back(*std::exchange(pending_unk, std::nullopt));
            symbols.push_back(it->second);
            continue;
        }
        if (m_options.byte_fallback) {
            bool all = true;
            for (const char c : piece)
                all = all && m_byte_ids[static_cast<unsigned char>(c)] >= 0;
            if (all) {
                // HF pushes these without flushing a pending unknown token first.
                for (const char c : piece)
                    symbols.push_back(m_byte_ids[static_cast<unsigned char>(c)]);
                continue;
            }
        }
        if (m_options.unk_token) {
            if (!m_unk_id)
                throw QsError("unknown token '" + *m_options.unk_token +
                              "' is not in the vocabulary");
            if (pending_unk && !m_options.fuse_unk) symbols.push_back(*pending_unk);
            pending_unk = *m_unk_id;  // fused: several unknown chars stay one token
        }
        // Without an unknown token HF silently drops the character.
    }
    if (pending_unk) symbols.push_back(*pending_unk);
    merge_all(symbols);
    out.insert(out.end(), symbols.begin(), symbols.end());
}

void BpeModel::merge_all(std::vector<std::int32_t>& symbols) const
{
    const std::size_t n = symbols.size();
    if (n < 2) return;
    // Doubly linked list over the symbols; a merged-away symbol gets alive = false.
    std::vector<std::int64_t> prev(n), next(n);
    std::vector<bool> alive(n, true);
    for (std::size_t i = 0; i < n; ++i) {
        prev[i] = static_cast<std::int64_t>(i) - 1;
        next[i] = i + 1 < n ? static_cast<std::int64_t>(i + 1) : -1;
    }
    struct Candidate {
        std::uint32_t rank;
        std::size_t pos;
        std::int32_t new_id;
        // std::priority_queue is a max-heap: invert so the lowest rank, then position, is on top.
        bool operator<(const Candidate& o) const
        {
            return rank != o.rank ? rank > o.rank : pos > o.pos;
        }
    };
    std::priority_queue<Candidate> queue;
    for (std::size_t i = 0; i + 1 < n; ++i) {
        if (const Merge* m = find_merge(symbols[i], symbols[i + 1]))
            queue.push({m->rank, i, m->new_id});
    }
    while (!queue.empty()) {
        const Candidate top = queue.top();
        queue.pop();
        if (!alive[top.pos] || next[top.pos] < 0) continue;
        const auto right = static_cast<std::size_t>(next[top.pos]);
        // Stale entry: the pair at this position changed since it was queued.
        const Merge* current = find_merge(symbols[top.pos], symbols[right]);
        if (!current || current->new_id != top.new_id) continue;

        symbols[top.pos] = top.new_id;
        alive[right] = false;
        next[top.pos] = next[right];
        if (next[right] >= 0)
            prev[static_cast<std::size_t>(next[right])] = static_cast<std::int64_t>(top.pos);

        if (prev[top.pos] >= 0) {
            const auto p = static_cast<std::size_t>(prev[top.pos]);
            if (const Merge* m = find_merge(symbols[p], symbols[top.pos]))
                queue.push({m->rank, p, m->new_id});
        }
        if (next[top.pos] >= 0) {
            const auto q = static_cast<std::size_t>(next[top.pos]);
            if (const Merge* m = find_merge(symbols[top.pos], symbols[q]))
                queue.push({m->rank, top.pos, m->new_id});
        }
    }
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (alive[i]) symbols[kept++] = symbols[i];
    symbols.resize(kept);
}

}  // namespace qs
