#include "connectors/receipt.h"

#include <boost/json.hpp>

namespace sunbeam {

std::string_view to_string(ReceiptOutcome o) {
  switch (o) {
    case ReceiptOutcome::delivered: return "delivered";
    case ReceiptOutcome::undelivered: return "undelivered";
    case ReceiptOutcome::pending: return "pending";
  }
  return "pending";
}

std::string serialize(const ReceiptRecord& r) {
  return boost::json::serialize(boost::json::object{{"connector", r.connector},
                                                    {"reference", r.receipt.reference},
                                                    {"gateway_message_id", r.receipt.gateway_message_id},
                                                    {"outcome", to_string(r.receipt.outcome)},
                                                    {"part", r.receipt.part},
                                                    {"parts", r.receipt.parts},
                                                    {"detail", r.receipt.detail},
                                                    {"received_ms", r.received_ms}});
}

Result<ReceiptRecord> parse_receipt_record(std::string_view json) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return make_error("receipt_record", "a receipt record is not a JSON object");
  const auto& o = v.get_object();
  const auto text = [&](const char* key) {
    const auto* p = o.if_contains(key);
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
  };
  const auto number = [&](const char* key) {
    const auto* p = o.if_contains(key);
    return p && p->is_int64() ? p->get_int64() : std::int64_t(0);
  };
  ReceiptRecord r;
  r.connector = text("connector");
  r.receipt.reference = text("reference");
  r.receipt.gateway_message_id = text("gateway_message_id");
  const auto outcome = text("outcome");
  if (outcome == "delivered") r.receipt.outcome = ReceiptOutcome::delivered;
  else if (outcome == "undelivered") r.receipt.outcome = ReceiptOutcome::undelivered;
  else if (outcome == "pending") r.receipt.outcome = ReceiptOutcome::pending;
  else return make_error("receipt_record", "a receipt record has no valid outcome");
  r.receipt.part = int(number("part"));
  r.receipt.parts = int(number("parts"));
  r.receipt.detail = text("detail");
  r.received_ms = number("received_ms");
  return r;
}

}  // namespace sunbeam
