// Format names are parsed token by token ('-' separated, lower-cased); every failure throws
// the same one-line QsError so the CLI and the GUI can show it unchanged.
#include "core/quant/quant_format.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "core/util/error.h"

namespace qs {
namespace {

[[noreturn]] void fail_unknown(const std::string& name)
{
    throw QsError("unknown quantization format '" + name +
                  "' (expected e.g. int4-g128-asym, mxint4-32, mxfp4-32, fp8-e4m3-channel)");
}

std::vector<std::string> split_lower(const std::string& name)
{
    std::string s;
    for (char c : name)
        if (!std::isspace(static_cast<unsigned char>(c)))
            s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::vector<std::string> tokens;
    std::size_t start = 0;
    while (true) {
        auto dash = s.find('-', start);
        tokens.push_back(s.substr(start, dash - start));
        if (dash == std::string::npos) break;
        start = dash + 1;
    }
    return tokens;
}

// A positive decimal number with nothing else, or nullopt.
std::optional<int> parse_positive(const std::string& s)
{
    if (s.empty() || s.size() > 7) return std::nullopt;
    if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    int v = std::stoi(s);
    if (v <= 0) return std::nullopt;
    return v;
}

bool starts_with(const std::string& s, const std::string& prefix)
{
    return s.compare(0, prefix.size(), prefix) == 0;
}

// "int<b>[-g<group>|-channel|-tensor|-token][-sym|-asym][-mse]"; each option at most once.
std::optional<QuantFormat> parse_int(const std::vector<std::string>& t)
{
    QuantFormat f;
    f.kind = FormatKind::Int;
    auto bits = parse_positive(t[0].substr(3));
    if (!bits || *bits < 2 || *bits > 8) return std::nullopt;
    f.bits = *bits;
    bool have_granularity = false, have_symmetry = false, have_mse = false;
    for (std::size_t i = 1; i < t.size(); ++i) {
        const std::string& tok = t[i];
        if (tok == "channel" || tok == "tensor" || tok == "token" || starts_with(tok, "g")) {
            if (have_granularity) return std::nullopt;
            have_granularity = true;
            if (tok == "channel") {
                f.granularity = Granularity::Channel;
            } else if (tok == "tensor") {
                f.granularity = Granularity::Tensor;
            } else if (tok == "token") {
                f.granularity = Granularity::Token;
            } else {
                auto group = parse_positive(tok.substr(1));
                if (!group) return std::nullopt;
                f.granularity = Granularity::Group;
                f.group_size = *group;
            }
        } else if (tok == "sym" || tok == "asym") {
            if (have_symmetry) return std::nullopt;
            have_symmetry = true;
            f.symmetric = tok == "sym";
        } else if (tok == "mse") {
            if (have_mse) return std::nullopt;
            have_mse = true;
            f.mse = true;
        } else {
            return std::nullopt;
        }
    }
    return f;
}

// "mxint<d>-<block>", "mxfp8-e4m3-<block>", ..., "mxfp4[-e2m1]-<block>", then optional "-even".
std::optional<QuantFormat> parse_mx(std::vector<std::string> t)
{
    QuantFormat f;
    f.kind = FormatKind::Mx;
    if (t.size() >= 2 && (t.back() == "even" || t.back() == "nearest")) {
        f.rounding = t.back() == "even" ? Rounding::Even : Rounding::Nearest;
        t.pop_back();
    }
    std::size_t block_token = 1;
    const std::string& head = t[0];
    auto second = [&]() { return t.size() > 1 ? t[1] : std::string(); };
    if (head == "mxint8") {
        f.element = MxElement::Int8;
    } else if (head == "mxint6") {
        f.element = MxElement::Int6;
    } else if (head == "mxint4") {
        f.element = MxElement::Int4;
    } else if (head == "mxint3") {
        f.element = MxElement::Int3;
    } else if (head == "mxint2") {
        f.element = MxElement::Int2;
    } else if (head == "mxfp8" && (second() == "e4m3" || second() == "e5m2")) {
        f.element = second() == "e4m3" ? MxElement::Fp8E4M3 : MxElement::Fp8E5M2;
        block_token = 2;
    } else if (head == "mxfp6" && (second() == "e3m2" || second() == "e2m3")) {
        f.element = second() == "e3m2" ? MxElement::Fp6E3M2 : MxElement::Fp6E2M3;
        block_token = 2;
    } else if (head == "mxfp4") {
        f.element = MxElement::Fp4E2M1;
        if (second() == "e2m1") block_token = 2;
    } else {
        return std::nullopt;
    }
    if (t.size() != block_token + 1) return std::nullopt;
    auto block = parse_positive(t[block_token]);
    if (!block || (*block != 16 && *block != 32 && *block != 64 && *block != 128))
        return std::nullopt;
    f.block_size = *block;
    return f;
}

// "fp8-e4m3[-tensor|-channel]", "fp8-e5m2[-tensor|-channel]".
std::optional<QuantFormat> parse_fp8(const std::vector<std::string>& t)
{
    QuantFormat f;
    f.kind = FormatKind::Fp8;
    if (t.size() < 2 || t.size() > 3) return std::nullopt;
    if (t[1] == "e4m3") {
        f.fp8 = Fp8Variant::E4M3;
    } else if (t[1] == "e5m2") {
        f.fp8 = Fp8Variant::E5M2;
    } else {
        return std::nullopt;
    }
    f.granularity = Granularity::Channel;
    if (t.size() == 3) {
        if (t[2] == "tensor") {
            f.granularity = Granularity::Tensor;
        } else if (t[2] != "channel") {
            return std::nullopt;
        }
    }
    return f;
}

std::string mx_element_name(MxElement e)
{
    switch (e) {
        case MxElement::Int8:
            return "mxint8";
        case MxElement::Int6:
            return "mxint6";
        case MxElement::Int4:
            return "mxint4";
        case MxElement::Int3:
            return "mxint3";
        case MxElement::Int2:
            return "mxint2";
        case MxElement::Fp8E4M3:
            return "mxfp8-e4m3";
        case MxElement::Fp8E5M2:
            return "mxfp8-e5m2";
        case MxElement::Fp6E3M2:
            return "mxfp6-e3m2";
        case MxElement::Fp6E2M3:
            return "mxfp6-e2m3";
        case MxElement::Fp4E2M1:
            return "mxfp4";
    }
    return "mx?";
}

int mx_element_bits(MxElement e)
{
    switch (e) {
        case MxElement::Int8:
        case MxElement::Fp8E4M3:
        case MxElement::Fp8E5M2:
            return 8;
        case MxElement::Int6:
        case MxElement::Fp6E3M2:
        case MxElement::Fp6E2M3:
            return 6;
        case MxElement::Int4:
        case MxElement::Fp4E2M1:
            return 4;
        case MxElement::Int3:
            return 3;
        case MxElement::Int2:
            return 2;
    }
    return 0;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b)
{
    return (a + b - 1) / b;
}

}  // namespace

QuantFormat QuantFormat::parse(const std::string& name)
{
    const auto t = split_lower(name);
    std::optional<QuantFormat> f;
    if (t.size() == 1 && (t[0] == "none" || t[0] == "fp32")) {
        f = QuantFormat{};
    } else if (starts_with(t[0], "mx")) {
        f = parse_mx(t);
    } else if (starts_with(t[0], "int")) {
        f = parse_int(t);
    } else if (t[0] == "fp8") {
        f = parse_fp8(t);
    }
    if (!f) fail_unknown(name);
    return *f;
}

std::string QuantFormat::name() const
{
    switch (kind) {
        case FormatKind::None:
            return "none";
        case FormatKind::Int: {
            std::string s = "int" + std::to_string(bits) + "-";
            switch (granularity) {
                case Granularity::Tensor:
                    s += "tensor";
                    break;
                case Granularity::Channel:
                    s += "channel";
                    break;
                case Granularity::Group:
                    s += "g" + std::to_string(group_size);
                    break;
                case Granularity::Token:
                    s += "token";
                    break;
            }
            s += symmetric ? "-sym" : "-asym";
            if (mse) s += "-mse";
            return s;
        }
        case FormatKind::Mx: {
            std::string s = mx_element_name(element) + "-" + std::to_string(block_size);
            if (rounding == Rounding::Even) s += "-even";
            return s;
        }
        case FormatKind::Fp8:
            return std::string(fp8 == Fp8Variant::E4M3 ? "fp8-e4m3" : "fp8-e5m2") +
                   (granularity == Granularity::Tensor ? "-tensor" : "-channel");
    }
    return "none";
}

int QuantFormat::element_bits() const
{
    switch (kind) {
        case FormatKind::None:
            return 16;
        case FormatKind::Int:
            return bits;
        case FormatKind::Mx:
            return mx_element_bits(element);
        case FormatKind::Fp8:
            return 8;
    }
    return 16;
}

std::int64_t QuantFormat::storage_bits(std::int64_t rows, std::int64_t cols) const
{
    const std::int64_t codes = rows * cols * element_bits();
    switch (kind) {
        case FormatKind::None:
            return codes;
        case FormatKind::Int: {
            // One (scale, zero) pair per row and group; per-tensor has a single pair.
            std::int64_t pairs = rows;
            if (granularity == Granularity::Tensor) {
                pairs = 1;
            } else if (granularity == Granularity::Group && group_size > 0) {
                pairs = rows * ceil_div(cols, group_size);
            }
            return codes + pairs * (16 + (symmetric ? 0 : bits));
        }
        case FormatKind::Mx:
            return codes + rows * ceil_div(cols, block_size) * 8;
        case FormatKind::Fp8:
            return codes + (granularity == Granularity::Tensor ? 1 : rows) * 32;
    }
    return codes;
}

double QuantFormat::bits_per_weight(std::int64_t rows, std::int64_t cols) const
{
    if (rows <= 0 || cols <= 0) return double(element_bits());
    return double(storage_bits(rows, cols)) / double(rows * cols);
}

bool operator==(const QuantFormat& a, const QuantFormat& b)
{
    if (a.kind != b.kind) return false;
    switch (a.kind) {
        case FormatKind::None:
            return true;
        case FormatKind::Int:
            return a.bits == b.bits && a.symmetric == b.symmetric &&
                   a.granularity == b.granularity && a.mse == b.mse &&
                   (a.granularity != Granularity::Group || a.group_size == b.group_size);
        case FormatKind::Mx:
            return a.element == b.element && a.block_size == b.block_size &&
                   a.rounding == b.rounding;
        case FormatKind::Fp8:
            return a.fp8 == b.fp8 &&
                   (a.granularity == Granularity::Tensor) == (b.granularity == Granularity::Tensor);
    }
    return false;
}

}  // namespace qs
