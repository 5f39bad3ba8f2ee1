// Template variables, from the JSON the event carried to the data kainjow
// renders (docs/templates.md, "Variables"):
//  - strings as they are; an empty string is false in a section, as in
//    mustache.js, so {{#target_price}}…{{/target_price}} skips a blank field;
//  - integers in decimal ("1000", never "1000.0"); other numbers in the
//    shortest decimal form that reads back as the same double ("28.88",
//    "0.0001"), never in exponent form. JSON keeps no trailing zeros: send
//    money as strings ("28880.00") when the zeros matter;
//  - booleans and null drive sections ({{#flag}}, {{^flag}}); as a variable
//    they print nothing (kainjow prints only strings);
//  - arrays are lists a section iterates; objects are reached by dotted names
//    ({{event.symbol}}) or as a section's context.
// Internal to the templates module.
#pragma once

#include <boost/json/value.hpp>
#include <kainjow/mustache.hpp>

#include <string>

namespace sunbeam {

kainjow::mustache::data to_mustache_data(const boost::json::value& value);
kainjow::mustache::data to_mustache_data(const boost::json::object& object);

// A JSON number as a template prints it.
std::string format_number(const boost::json::value& number);

}  // namespace sunbeam
