// One e-mail composed from an OutboundMessage: the exact bytes of SMTP DATA
// (RFC 5322 header, MIME multipart/alternative text + HTML in UTF-8) and its
// envelope. Pure: no I/O, time passed in, so tests compare bytes.
//
// Hand-written rather than with libcurl's curl_mime API: curl_mime encodes
// bodies but not headers (no RFC 2047 encoded-words, no folding), picks a
// random boundary and only shows its output inside a transfer, so nothing
// could check a mail before it is sent. Here the composition is a function
// from message to bytes, and the unit tests read those bytes.
//
// Header injection: nothing from the message can add a header or a
// recipient. The recipient must be one plain addr-spec (see
// check_recipient), or the mail is never composed. Subject and display names
// are neutralised (neutralise_header_text: every run of control characters,
// CR, LF and NUL included, becomes one space) and then written as RFC 2047
// encoded-words or as plain folded text with no control characters, so no
// line break of theirs ever reaches the header. Bodies are quoted-printable
// or base64, whose output is printable ASCII lines of at most 76 characters
// that can never contain the MIME boundary (it starts with "=_").
#pragma once

#include "connectors/connector.h"
#include "engine/core/clock.h"
#include "engine/core/result.h"

#include <string>
#include <string_view>

namespace sunbeam {

// A mail address with an optional display name (UTF-8).
struct Mailbox {
  std::string display_name;
  std::string address;  // an addr-spec: local@domain
};

// What the connector's options fix for every mail it sends.
struct MailSettings {
  Mailbox from;
  std::string message_id_domain;  // empty: the domain of from.address
};

struct ComposedMail {
  std::string mail_from;   // envelope sender (MAIL FROM): the From address
  std::string rcpt_to;     // envelope recipient (the one RCPT TO): `to`
  std::string message_id;  // "<delivery_id@domain>", as in the header
  std::string data;        // header, blank line, body; CRLF line ends, ends with CRLF
};

// Why `to` cannot be a recipient, or an empty string when it can: exactly one
// ASCII addr-spec with a dot-atom local part and a host-name domain (letters,
// digits, hyphens). No display name, quotes, brackets, commas, spaces or
// control characters, so `to` can neither name a second recipient nor break
// out of a header or an SMTP command. Internationalised addresses would need
// SMTPUTF8, which this connector does not speak.
std::string check_recipient(std::string_view to);

// A domain fit for a Message-ID and an address: host-name labels of letters,
// digits and inner hyphens, at most 253 characters.
bool is_host_name(std::string_view domain);

// The `from` option: "a@example.com", "Name <a@example.com>" or
// "\"Name, Inc.\" <a@example.com>"; the name may be UTF-8.
Result<Mailbox> parse_mailbox(std::string_view text);

// Composes one mail. Errors: code "recipient" when check_recipient refuses
// `msg.to`; "message" when the message cannot be written as a mail (a
// delivery id that cannot be a Message-ID's left part).
Result<ComposedMail> compose_mail(const OutboundMessage& msg, const MailSettings& settings, SystemTime date);

// The building blocks, public for their tests.

// Header text made safe: each run of C0 control characters (CR, LF, NUL,
// TAB, ...) and DEL becomes one space, and invalid UTF-8 becomes U+FFFD, so
// what is left is one line of valid UTF-8. Replaced by a space rather than
// carried inside encoded-words: a subject is one line, a client shown an
// encoded CR LF might still render or act on it, and a space reads the way
// an unfolded line would.
std::string neutralise_header_text(std::string_view text);

// One header field ("Subject: ..."), folded, without the final CRLF. Plain
// when `text` (already neutralised) is printable ASCII that folds into lines
// of at most 78 characters with nothing a reader could take for an
// encoded-word; otherwise RFC 2047 "B" encoded-words in UTF-8, each at most
// 75 characters, lines at most 76, never splitting a UTF-8 sequence.
std::string unstructured_header(std::string_view name, std::string_view text);

// The From header's value for a mailbox: `a@x`, `Name <a@x>`,
// `"Quoted, Name" <a@x>` or encoded-words, folded; `prefix_length` is the
// length of "From: " before it.
std::string mailbox_header_value(const Mailbox& mailbox, std::size_t prefix_length);

// Quoted-printable (RFC 2045 §6.7) of UTF-8 text whose line breaks (CRLF, CR
// or LF) become CRLF hard breaks; output lines are at most 76 characters.
std::string quoted_printable(std::string_view text);

// Base64 in lines of 76 characters, each ending CRLF.
std::string base64_lines(std::string_view bytes);

// RFC 5322 date-time in UTC: "Wed, 25 Nov 2026 00:45:00 +0000".
std::string rfc5322_date(SystemTime t);

}  // namespace sunbeam
