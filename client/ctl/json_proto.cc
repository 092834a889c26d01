#include "json_proto.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <cctype>
#include <ostream>

namespace adaspring::ctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string UpperSnake(const std::string& camel) {
  std::string out;
  for (size_t i = 0; i < camel.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(camel[i]);
    if (std::isupper(c) && i > 0) out += '_';
    out += static_cast<char>(std::toupper(c));
  }
  return out;
}

Json Scalar(const Message& m, const Reflection* r, const FieldDescriptor* f, int index) {
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case FieldDescriptor::CPPTYPE_INT64:
      return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
    case FieldDescriptor::CPPTYPE_UINT32:
      return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
    case FieldDescriptor::CPPTYPE_UINT64:
      return rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
    case FieldDescriptor::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* v = rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f);
      return ShortEnumName(f->enum_type()->name(), v->name());
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub = rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f);
      if (sub.GetDescriptor()->full_name() == "google.protobuf.Timestamp") {
        const auto& ts = static_cast<const google::protobuf::Timestamp&>(sub);
        if (ts.seconds() == 0 && ts.nanos() == 0) return "";
        return google::protobuf::util::TimeUtil::ToString(ts);
      }
      return ToJson(sub);
    }
  }
  return nullptr;
}

}  // namespace

std::string ShortEnumName(const std::string& enum_type_name, const std::string& value_name) {
  const std::string prefix = UpperSnake(enum_type_name) + "_";
  std::string v = value_name;
  if (v.rfind(prefix, 0) == 0) v = v.substr(prefix.size());
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v;
}

Json ToJson(const Message& message) {
  Json j = Json::object();
  const auto* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->type() == FieldDescriptor::TYPE_BYTES) continue;  // secrets and raw tensors
    if (f->is_repeated()) {
      Json arr = Json::array();
      for (int k = 0; k < r->FieldSize(message, f); ++k) arr.push_back(Scalar(message, r, f, k));
      j[f->name()] = std::move(arr);
    } else if (f->has_presence() && !f->real_containing_oneof() &&
               f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE && !r->HasField(message, f)) {
      j[f->name()] = nullptr;  // proto3 `optional` left unset
    } else {
      j[f->name()] = Scalar(message, r, f, -1);
    }
  }
  return j;
}

void PrintJsonLine(std::ostream& out, const Json& j) {
  // Replace invalid UTF-8 rather than throwing: daemon strings come from file names.
  out << j.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
}

}  // namespace adaspring::ctl
