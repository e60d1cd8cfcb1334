// Text at the edge: the one check every text that enters facetrail passes (JSON and multipart
// fields, command-line arguments, manifest fields, user names), what "blank" means, and the one
// way facetrail writes a CSV cell.
//
// WHAT THIS REPRESENTS
//   ValidateText refuses what must never reach the database or the audit log: bytes that are not
//   UTF-8 (once stored they break every JSON export of the record), text longer than its limit
//   (a 9 MB user name would become a 9 MB audit entry), NUL and other control characters, and
//   bidirectional overrides (they make a stored text display as something else). IsBlank says
//   whether a text carries anything a reader could read: Unicode white space, invisible format
//   characters (zero-width space and joiners, the byte-order mark, soft hyphen), controls and
//   punctuation alone ("." , "-", "…") are blank.
//   CsvCell writes one CSV cell that a spreadsheet will not run as a formula (OWASP "CSV
//   injection": a cell that begins with = + - @, a tab or a carriage return gets a leading ').
//
// THREAD SAFETY
//   Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace facetrail {

// Limits in bytes of UTF-8, used by every front end (docs/POLICY.md, "Text limits").
inline constexpr size_t kMaxUserNameBytes = 64;
inline constexpr size_t kMaxPasswordBytes = 1024;
inline constexpr size_t kMaxShortTextBytes = 256;  // case number, purpose, agency, names, labels
inline constexpr size_t kMaxLongTextBytes = 4096;  // justification, reasons, notes
inline constexpr size_t kMaxManifestFieldBytes = 1024;

struct TextRules {
  bool multiline = false;  // tab, LF and CR allowed (notes, justifications)
  bool required = false;   // IsBlank(value) is refused
};

// OK, or kInvalidArgument naming `field` and what is wrong: "justification: not valid UTF-8 (byte
// 7)", "case: longer than 256 bytes", "name: control character U+0000 at byte 3", "offense: blank".
// The message never repeats the value (it may be huge or hostile).
Status ValidateText(std::string_view field, std::string_view value, size_t max_bytes,
                    TextRules rules = {});

// True when `value` is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view value);

// True when `value` holds no letter, digit or other character a reader would take for content:
// only Unicode white space, format characters (U+200B..U+200F, U+2060..U+206F, U+FEFF, U+00AD,
// …), control characters, combining marks, ASCII punctuation and symbols, and the punctuation
// blocks (General, Supplemental, CJK, full-width). Invalid UTF-8 is not blank (ValidateText refuses
// it first).
bool IsBlank(std::string_view value);

// `value` with every invalid UTF-8 sequence replaced by U+FFFD: for showing stored text that was
// written before these checks existed.
std::string SanitizeUtf8(std::string_view value);

// One CSV cell (RFC 4180 quoting when needed), neutralised against formula injection.
std::string CsvCell(std::string_view value);

}  // namespace facetrail
