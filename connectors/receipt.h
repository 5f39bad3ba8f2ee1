// Delivery receipts (SPEC §5 POST /v1/receipts/{connector}): what a gateway
// tells us later about a message it accepted. Each connector kind parses its
// gateway's format into these; dispatch matches them to deliveries.
#pragma once

#include "engine/core/result.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sunbeam {

enum class ReceiptOutcome : std::uint8_t {
  delivered,    // the handset (or mailbox) has it
  undelivered,  // the gateway gave up: final
  pending,      // buffered / accepted by the SMSC: informative, not final
};

struct Receipt {
  std::string reference;           // our delivery id, when the gateway echoes it
  std::string gateway_message_id;  // the gateway's id for the message (or part)
  ReceiptOutcome outcome = ReceiptOutcome::pending;
  int part = 0;                    // 1-based part of a multipart SMS; 0: the whole message
  int parts = 0;                   // how many parts, when the gateway says; 0: unknown
  std::string detail;              // the gateway's own words, for the record
};

// One HTTP request as the receipts endpoint received it.
struct ReceiptRequest {
  std::string method;                         // GET (Kannel) or POST
  std::map<std::string, std::string> query;   // decoded query parameters
  std::string content_type;
  std::string body;
};

// A receipt on its way from the API to dispatch (the `receipts` topic).
struct ReceiptRecord {
  std::string connector;
  Receipt receipt;
  std::int64_t received_ms = 0;
};
std::string serialize(const ReceiptRecord& r);
Result<ReceiptRecord> parse_receipt_record(std::string_view json);
std::string_view to_string(ReceiptOutcome o);

}  // namespace sunbeam
