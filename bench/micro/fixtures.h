// What the micro-benchmarks share: a configuration built in code (the sample
// config's tiers, event types and SMS settings, so no file is read), the
// project's own message templates, realistic published events, and subscriber
// directories generated once per size and kept for the whole process.
#pragma once

#include "config/config.h"
#include "engine/directory/directory.h"
#include "templates/template_set.h"

#include <memory>
#include <string>

namespace sunbeam::bench {

// Tiers advisor, research, basic; the event types the benchmarks publish
// (ipo_subscription, allotment_result, risk_alert, stock_pick), with the
// channels, audiences and priorities of config/sample/sunbeam.yaml; the
// sample's SMS signature (【阳光证券】, prefix) and opt-out suffix.
const Config& config();

// templates/messages of the source tree ($SUNBEAM_SOURCE_DIR, else the
// checkout this program was built from), compiled once; exits with a message
// when they do not load.
const TemplateSet& templates();

// The text of templates/messages/<locale>/<file> (for the library baselines).
std::string template_file_text(const std::string& locale, const std::string& file);

// Published events as the research desk sends them (compact JSON):
std::string ipo_event_json();          // ipo_subscription of 688999.SH, data only
std::string risk_alert_json();         // urgent risk_alert on 600519.SH
std::string allotment_json(int accounts);  // allotment_result naming `accounts` accounts with lots, shares, amount
std::string stock_pick_json();         // stock_pick narrowed to audience.tiers [advisor, research]

// A directory of `subscribers` generated rows (as bench/directory generates
// them: Chinese and English names, mainland mobiles, e-mails, 20/20/60% over
// advisor/research/basic, sms/email/both, 2% opted out of stock_pick) with
// about 5 holdings each over 4,000 symbols, and 600519.SH held by every
// tenth subscriber (the popular stock a risk alert is about). Built through
// load_directory from in-memory CSV on first use and kept; exits with a
// message when rows are refused.
const Directory& directory(long subscribers);

}  // namespace sunbeam::bench
