// One-line human descriptions of adaspring.v1 objects, shared by the commands.
#ifndef ADASPRING_CLIENT_CTL_DESCRIBE_H_
#define ADASPRING_CLIENT_CTL_DESCRIBE_H_

#include <string>

#include "adaspring/v1/admin.pb.h"

namespace adaspring::ctl {

// "memory 1.2 GiB free of 7.7 GiB, cpu 23% busy, 45.0°C, battery 80% (on AC)"
std::string DescribeContext(const v1::ContextSnapshot& c);
// "d=2.1.2 w=... p=f32 (predicted: acc 93.1%, 0.42 ms, 1.1 MiB)"
std::string DescribeConfiguration(const v1::Configuration& c);
std::string DescribeSlo(const v1::Slo& slo);
// "2026-11-28 13:27:04.123" (local time) or "" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& t, bool with_date);

}  // namespace adaspring::ctl

#endif  // ADASPRING_CLIENT_CTL_DESCRIBE_H_
