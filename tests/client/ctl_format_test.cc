// adaspringctl's formatting pieces, compiled in from client/ctl (they are not part of the
// client library).
#include <gtest/gtest.h>

#include <sstream>

#include "../../client/ctl/json_proto.cc"
#include "../../client/ctl/table.cc"
#include "adaspring/v1/admin.pb.h"
#include "adaspring/v1/inference.pb.h"

namespace adaspring::ctl {
namespace {

TEST(TableTest, AlignsColumnsAndRightAlignsNumbers) {
  Table t({"NAME", "COUNT", "NOTE"}, {false, true, false});
  t.AddRow({"a", "5", "x"});
  t.AddRow({"longer", "12345", ""});
  t.AddRow({"°C", "1"});  // multi-byte text counts as one column each
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(out.str(),
            "NAME    COUNT  NOTE\n"
            "a           5  x\n"
            "longer  12345\n"
            "°C          1\n");
}

TEST(TableTest, NumberFormats) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(int64_t{231} << 20), "231.0 MiB");
  EXPECT_EQ(FormatBytes(int64_t{8} << 30), "8.0 GiB");
  EXPECT_EQ(FormatDuration(45), "45s");
  EXPECT_EQ(FormatDuration(723), "12m 03s");
  EXPECT_EQ(FormatDuration(3725), "1h 02m");
  EXPECT_EQ(FormatDuration(2 * 86400 + 5 * 3600), "2d 05h");
  EXPECT_EQ(FormatPercent(0.231), "23%");
  EXPECT_EQ(FormatPercent(0.9312, 1), "93.1%");
  EXPECT_EQ(FormatCount(1200), "1200");
  EXPECT_EQ(FormatCount(7.6e6), "7.6M");
  std::ostringstream kv;
  PrintKeyValues(kv, {{"a", "1"}, {"long key", "2"}}, 2);
  EXPECT_EQ(kv.str(), "  a         1\n  long key  2\n");
}

TEST(JsonProtoTest, StableKeysNumbersAndShortEnums) {
  v1::ModelInfo m;
  m.set_name("smallres28");
  m.add_input_shape(1);
  m.add_input_shape(28);
  m.set_weight_bytes(int64_t{5} << 33);  // > 2^32: stays a JSON number
  m.mutable_full()->set_precision(v1::PRECISION_INT8);
  const Json j = ToJson(m);
  EXPECT_EQ(j["name"], "smallres28");
  EXPECT_EQ(j["input_shape"], Json::array({1, 28}));
  EXPECT_EQ(j["weight_bytes"].get<int64_t>(), int64_t{5} << 33);
  EXPECT_EQ(j["full"]["precision"], "int8");
  EXPECT_EQ(j["smallest"]["text"], "");  // defaults are printed: keys never disappear
  EXPECT_EQ(j.begin().key(), "name");    // proto field order
  EXPECT_EQ(ShortEnumName("Kind", "KIND_MODEL_LOADED"), "model_loaded");
  EXPECT_EQ(ShortEnumName("SourceState", "SOURCE_STATE_ABSENT"), "absent");

  v1::OpenSessionResponse secret;
  secret.set_token("do-not-print");
  EXPECT_FALSE(ToJson(secret).contains("token"));

  v1::SetContextOverrideRequest o;
  o.set_battery_percent(10);
  const Json oj = ToJson(o);
  EXPECT_TRUE(oj["memory_limit_bytes"].is_null());  // optional and unset
  EXPECT_EQ(oj["battery_percent"], 10.0);

  v1::DaemonEvent e;
  e.mutable_time()->set_seconds(1764336000);
  e.set_message("bad \xff utf8");
  std::ostringstream line;
  PrintJsonLine(line, ToJson(e));
  const std::string text = line.str();
  EXPECT_NE(text.find("\"time\":\"2025-11-28T13:20:00Z\""), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

}  // namespace
}  // namespace adaspring::ctl
