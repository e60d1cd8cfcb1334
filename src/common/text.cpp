#include "common/text.h"

#include <cstdint>
#include <cstdio>

namespace facetrail {

namespace {

// Decodes the code point at s[pos]: its value and byte length, or length 0 when the bytes there
// are not valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
struct Decoded {
  uint32_t cp = 0;
  size_t len = 0;
};

Decoded DecodeAt(std::string_view s, size_t pos) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t b0 = byte(pos);
  if (b0 < 0x80) return {b0, 1};
  size_t len = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1Fu, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0Fu, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return {};
  }
  if (pos + len > s.size()) return {};
  for (size_t i = 1; i < len; ++i) {
    const uint8_t b = byte(pos + i);
    if ((b & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {};
  return {cp, len};
}

bool IsControl(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

// Explicit bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069).
bool IsBidiControl(uint32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Unicode White_Space (beyond ASCII) and the invisible format characters a text can be padded
// with: soft hyphen, combining grapheme joiner, Arabic letter mark, Hangul fillers, Mongolian
// vowel separator and variation selectors, zero-width space/joiners, marks, word joiner and the
// invisible operators, byte-order mark, interlinear annotation, tags.
bool IsInvisible(uint32_t cp) {
  switch (cp) {
    case 0x85:
    case 0xA0:
    case 0xAD:
    case 0x34F:
    case 0x61C:
    case 0x115F:
    case 0x1160:
    case 0x1680:
    case 0x17B4:
    case 0x17B5:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
    case 0x3164:
    case 0xFEFF:
    case 0xFFA0: return true;
    default: break;
  }
  return (cp >= 0x180B && cp <= 0x180F) || (cp >= 0x2000 && cp <= 0x200F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
         (cp >= 0x1D173 && cp <= 0x1D17A) || (cp >= 0xE0000 && cp <= 0xE0FFF);
}

// Punctuation and combining marks: not content on their own (ASCII punctuation, Latin-1
// punctuation, combining diacritics, General and Supplemental Punctuation, CJK punctuation,
// full-width ASCII punctuation).
bool IsPunctuationOrMark(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
           (cp >= 0x7B && cp <= 0x7E);
  }
  switch (cp) {
    case 0xA1:
    case 0xA7:
    case 0xAB:
    case 0xB6:
    case 0xB7:
    case 0xBB:
    case 0xBF:
    case 0x37E:
    case 0x387:
    case 0x55A:
    case 0x589:
    case 0x5BE:
    case 0x60C:
    case 0x61B:
    case 0x61F:
    case 0x6D4:
    case 0x964:
    case 0x965: return true;
    default: break;
  }
  return (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x2010 && cp <= 0x2027) ||
         (cp >= 0x2030 && cp <= 0x205E) || (cp >= 0x20D0 && cp <= 0x20FF) ||
         (cp >= 0x2E00 && cp <= 0x2E7F) || (cp >= 0x3001 && cp <= 0x3003) ||
         (cp >= 0x3008 && cp <= 0x3011) || (cp >= 0x3014 && cp <= 0x301F) ||
         (cp >= 0xFE10 && cp <= 0xFE1F) || (cp >= 0xFE20 && cp <= 0xFE2F) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFE50 && cp <= 0xFE6B) ||
         (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
         (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65);
}

std::string CodePointName(uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

}  // namespace

bool IsValidUtf8(std::string_view value) {
  for (size_t pos = 0; pos < value.size();) {
    const Decoded d = DecodeAt(value, pos);
    if (d.len == 0) return false;
    pos += d.len;
  }
  return true;
}

Status ValidateText(std::string_view field, std::string_view value, size_t max_bytes,
                    TextRules rules) {
  const std::string name(field);
  if (value.size() > max_bytes) {
    return InvalidArgument(name + ": longer than " + std::to_string(max_bytes) + " bytes (" +
                           std::to_string(value.size()) + ")");
  }
  for (size_t pos = 0; pos < value.size();) {
    const Decoded d = DecodeAt(value, pos);
    if (d.len == 0) {
      return InvalidArgument(name + ": not valid UTF-8 (byte " + std::to_string(pos + 1) + ")");
    }
    const bool allowed_space = rules.multiline && (d.cp == '\t' || d.cp == '\n' || d.cp == '\r');
    if (IsControl(d.cp) && !allowed_space) {
      return InvalidArgument(name + ": control character " + CodePointName(d.cp) + " at byte " +
                             std::to_string(pos + 1));
    }
    if (IsBidiControl(d.cp)) {
      return InvalidArgument(name + ": bidirectional control " + CodePointName(d.cp) + " at byte " +
                             std::to_string(pos + 1));
    }
    pos += d.len;
  }
  if (rules.required && IsBlank(value)) {
    return InvalidArgument(name +
                           ": blank (white space, invisible characters or punctuation "
                           "only)");
  }
  return Status::Ok();
}

bool IsBlank(std::string_view value) {
  for (size_t pos = 0; pos < value.size();) {
    const Decoded d = DecodeAt(value, pos);
    if (d.len == 0) return false;
    if (d.cp != ' ' && !IsControl(d.cp) && !IsInvisible(d.cp) && !IsPunctuationOrMark(d.cp)) {
      return false;
    }
    pos += d.len;
  }
  return true;
}

std::string SanitizeUtf8(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t pos = 0; pos < value.size();) {
    const Decoded d = DecodeAt(value, pos);
    if (d.len == 0) {
      out += "\xEF\xBF\xBD";
      ++pos;
    } else {
      out.append(value.substr(pos, d.len));
      pos += d.len;
    }
  }
  return out;
}

std::string CsvCell(std::string_view value) {
  std::string cell;
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
                         value[0] == '\t' || value[0] == '\r')) {
    cell = "'";
  }
  cell.append(value);
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace facetrail
