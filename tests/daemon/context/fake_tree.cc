#include "daemon/context/fake_tree.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace adaspring::context::testing {

namespace fs = std::filesystem;

FakeTree::FakeTree(const TreeTable& table) {
  std::string pattern = (fs::temp_directory_path() / "adaspring-ctx-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  root_ = pattern;
  Write(table);
}

FakeTree::~FakeTree() {
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

void FakeTree::Write(const TreeTable& table) {
  for (const auto& [path, content] : table) {
    const fs::path full = fs::path(root_ + path);
    if (!path.empty() && path.back() == '/') {
      fs::create_directories(full);
      continue;
    }
    fs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary | std::ios::trunc) << content;
  }
}

void FakeTree::Remove(const std::string& path) {
  std::error_code ignored;
  fs::remove_all(root_ + path, ignored);
}

namespace {

const char kMeminfo16G[] =
    "MemTotal:       16303428 kB\n"
    "MemFree:         9512304 kB\n"
    "MemAvailable:   12227572 kB\n"
    "Buffers:          402712 kB\n"
    "Cached:          2873520 kB\n";

std::string Psi(const std::string& avg10) {
  return "some avg10=" + avg10 +
         " avg60=0.50 avg300=0.20 total=123456\n"
         "full avg10=0.00 avg60=0.00 avg300=0.00 total=1000\n";
}

}  // namespace

TreeTable IntelLaptop() {
  TreeTable t = {
      {"/proc/meminfo", kMeminfo16G},
      {"/proc/stat",
       "cpu  1000 0 500 8000 500 0 0 0 0 0\n"
       "cpu0 250 0 125 2000 125 0 0 0 0 0\ncpu1 250 0 125 2000 125 0 0 0 0 0\n"
       "cpu2 250 0 125 2000 125 0 0 0 0 0\ncpu3 250 0 125 2000 125 0 0 0 0 0\n"
       "intr 1 2 3\n"},
      {"/proc/pressure/cpu", Psi("2.50")},
      {"/proc/pressure/memory", Psi("0.75")},
      {"/proc/pressure/io", Psi("1.25")},
      {"/proc/self/cgroup", "0::/user.slice/adaspringd.service\n"},
      {"/proc/self/mountinfo",
       "25 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
       "26 1 259:2 / / rw,relatime - ext4 /dev/nvme0n1p2 rw\n"},
      {"/sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n"},
      {"/sys/fs/cgroup/user.slice/memory.max", "max\n"},
      {"/sys/fs/cgroup/user.slice/adaspringd.service/memory.current", "314572800\n"},
      {"/sys/fs/cgroup/user.slice/adaspringd.service/memory.max", "2147483648\n"},
      {"/sys/fs/cgroup/user.slice/adaspringd.service/memory.events",
       "low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\n"},
      {"/sys/fs/cgroup/user.slice/adaspringd.service/memory.pressure", Psi("0.10")},
      {"/sys/class/powercap/intel-rapl/enabled", "1\n"},
      {"/sys/class/powercap/intel-rapl:0/name", "package-0\n"},
      {"/sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n"},
      {"/sys/class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n"},
      {"/sys/class/powercap/intel-rapl:0:0/name", "core\n"},
      {"/sys/class/powercap/intel-rapl:0:0/energy_uj", "500000\n"},
      {"/sys/class/powercap/intel-rapl:0:0/max_energy_range_uj", "262143328850\n"},
      {"/sys/class/thermal/thermal_zone0/type", "acpitz\n"},
      {"/sys/class/thermal/thermal_zone0/temp", "45000\n"},
      {"/sys/class/thermal/thermal_zone0/trip_point_0_type", "critical\n"},
      {"/sys/class/thermal/thermal_zone0/trip_point_0_temp", "120000\n"},
      {"/sys/class/thermal/thermal_zone1/type", "x86_pkg_temp\n"},
      {"/sys/class/thermal/thermal_zone1/temp", "62000\n"},
      {"/sys/class/thermal/thermal_zone1/trip_point_0_type", "passive\n"},
      {"/sys/class/thermal/thermal_zone1/trip_point_0_temp", "95000\n"},
      {"/sys/class/thermal/thermal_zone1/trip_point_1_type", "critical\n"},
      {"/sys/class/thermal/thermal_zone1/trip_point_1_temp", "105000\n"},
      {"/sys/class/thermal/cooling_device0/type", "Processor\n"},
      {"/sys/class/power_supply/AC/type", "Mains\n"},
      {"/sys/class/power_supply/AC/online", "1\n"},
      {"/sys/class/power_supply/BAT0/type", "Battery\n"},
      {"/sys/class/power_supply/BAT0/capacity", "57\n"},
      {"/sys/class/power_supply/BAT0/status", "Charging\n"},
      {"/sys/class/power_supply/hid-mouse-battery/type", "Battery\n"},
      {"/sys/class/power_supply/hid-mouse-battery/scope", "Device\n"},
      {"/sys/class/power_supply/hid-mouse-battery/capacity", "5\n"},
      {"/sys/class/hwmon/hwmon0/name", "coretemp\n"},
      {"/sys/class/hwmon/hwmon0/temp1_input", "62000\n"},
  };
  for (int cpu = 0; cpu < 4; ++cpu) {
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/";
    t[dir + "scaling_cur_freq"] = cpu < 2 ? "2400000\n" : "1600000\n";
    t[dir + "cpuinfo_max_freq"] = "4200000\n";
  }
  t["/sys/devices/system/cpu/cpufreq/"] = "";
  return t;
}

TreeTable ArmBoard() {
  TreeTable t = {
      {"/proc/meminfo",
       "MemTotal:        3955188 kB\nMemFree:          802112 kB\n"
       "MemAvailable:    2097152 kB\n"},
      {"/proc/stat",
       "cpu  400 0 100 1500 0 0 0 0 0 0\n"
       "cpu0 100 0 25 375 0 0 0 0 0 0\ncpu1 100 0 25 375 0 0 0 0 0 0\n"
       "cpu2 100 0 25 375 0 0 0 0 0 0\ncpu3 100 0 25 375 0 0 0 0 0 0\n"},
      {"/proc/pressure/cpu", Psi("0.00")},
      {"/proc/pressure/memory", Psi("3.00")},
      {"/proc/pressure/io", Psi("0.00")},
      {"/proc/self/cgroup", "0::/system.slice/adaspringd.service\n"},
      {"/proc/self/mountinfo", "30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"},
      {"/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n"},
      {"/sys/fs/cgroup/system.slice/memory.max", "max\n"},
      {"/sys/fs/cgroup/system.slice/adaspringd.service/memory.current", "104857600\n"},
      {"/sys/fs/cgroup/system.slice/adaspringd.service/memory.max", "max\n"},
      {"/sys/fs/cgroup/system.slice/adaspringd.service/memory.events",
       "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"},
      // INA3221 on a Jetson-style carrier: VDD_IN is the board input, the others are inside.
      {"/sys/class/hwmon/hwmon0/name", "ina3221\n"},
      {"/sys/class/hwmon/hwmon0/in1_label", "VDD_IN\n"},
      {"/sys/class/hwmon/hwmon0/in1_input", "5000\n"},
      {"/sys/class/hwmon/hwmon0/curr1_input", "1200\n"},
      {"/sys/class/hwmon/hwmon0/in2_label", "VDD_CPU_GPU_CV\n"},
      {"/sys/class/hwmon/hwmon0/in2_input", "5000\n"},
      {"/sys/class/hwmon/hwmon0/curr2_input", "400\n"},
      {"/sys/class/hwmon/hwmon0/in3_label", "VDD_SOC\n"},
      {"/sys/class/hwmon/hwmon0/in3_input", "5000\n"},
      {"/sys/class/hwmon/hwmon0/curr3_input", "300\n"},
      {"/sys/class/hwmon/hwmon0/in4_input", "12\n"},  // shunt voltage: no current pair
      // INA219 on a HAT measuring a USB camera: power1_input in microwatts.
      {"/sys/class/hwmon/hwmon1/name", "ina219\n"},
      {"/sys/class/hwmon/hwmon1/power1_input", "1500000\n"},
      {"/sys/class/hwmon/hwmon1/in1_input", "5000\n"},
      {"/sys/class/hwmon/hwmon1/curr1_input", "300\n"},
      {"/sys/class/hwmon/hwmon2/name", "cpu_thermal\n"},
      {"/sys/class/hwmon/hwmon2/temp1_input", "51000\n"},
      {"/sys/class/thermal/thermal_zone0/type", "cpu-thermal\n"},
      {"/sys/class/thermal/thermal_zone0/temp", "51540\n"},
      {"/sys/class/thermal/thermal_zone0/trip_point_0_type", "passive\n"},
      {"/sys/class/thermal/thermal_zone0/trip_point_0_temp", "80000\n"},
      {"/sys/class/thermal/thermal_zone0/trip_point_1_type", "critical\n"},
      {"/sys/class/thermal/thermal_zone0/trip_point_1_temp", "90000\n"},
      {"/sys/class/thermal/thermal_zone1/type", "gpu-thermal\n"},
      {"/sys/class/thermal/thermal_zone1/temp", "49000\n"},
      {"/sys/class/power_supply/", ""},
  };
  for (int cpu = 0; cpu < 4; ++cpu) {
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/";
    t[dir + "scaling_cur_freq"] = "1500000\n";
    t[dir + "cpuinfo_max_freq"] = "1800000\n";
  }
  return t;
}

TreeTable ServerVm() {
  return {
      {"/proc/meminfo",
       "MemTotal:        8152000 kB\nMemFree:         6000000 kB\n"
       "MemAvailable:    7000000 kB\n"},
      {"/proc/stat",
       "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0\n"
       "cpu1 50 0 50 350 50 0 0 0 0 0\n"},
      {"/proc/pressure/cpu", Psi("12.00")},
      {"/proc/pressure/memory", Psi("0.00")},
      {"/proc/pressure/io", Psi("4.00")},
      {"/proc/self/cgroup", "12:memory:/docker/abc123\n11:cpu,cpuacct:/docker/abc123\n0::/\n"},
      {"/proc/self/mountinfo",
       "40 30 0:35 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
       "41 30 0:36 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"},
      {"/sys/fs/cgroup/memory/docker/abc123/memory.usage_in_bytes", "52428800\n"},
      {"/sys/fs/cgroup/memory/docker/abc123/memory.limit_in_bytes", "9223372036854771712\n"},
      {"/sys/fs/cgroup/memory/docker/abc123/memory.stat",
       "cache 1000\nrss 2000\nhierarchical_memory_limit 9223372036854771712\n"},
  };
}

}  // namespace adaspring::context::testing
