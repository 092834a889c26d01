// adaspring.v1 messages -> JSON for `adaspringctl --json`.
//
// Stable keys: every key is the proto field name (snake_case) of adaspring.v1, which only
// grows compatibly within v1. Unlike protobuf's JSON mapping, every field is printed (defaults
// included), 64-bit integers are JSON numbers, enums are short lower-case names without the
// type prefix ("available", "evolution", "fp32") and Timestamps are RFC 3339 strings.
// Bytes fields (tokens) are never printed.
#ifndef ADASPRING_CLIENT_CTL_JSON_PROTO_H_
#define ADASPRING_CLIENT_CTL_JSON_PROTO_H_

#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>
#include <string>

namespace adaspring::ctl {

using Json = nlohmann::ordered_json;

Json ToJson(const google::protobuf::Message& message);
// "SOURCE_STATE_AVAILABLE" of enum "SourceState" -> "available".
std::string ShortEnumName(const std::string& enum_type_name, const std::string& value_name);
// Prints one compact JSON object and a newline (one object per line).
void PrintJsonLine(std::ostream& out, const Json& j);

}  // namespace adaspring::ctl

#endif  // ADASPRING_CLIENT_CTL_JSON_PROTO_H_
