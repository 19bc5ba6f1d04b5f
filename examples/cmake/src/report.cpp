#include <cstdio>
#include <vector>

#include "stats.h"

int main() {
  const std::vector<double> timings{4.2, 3.9, 18.5, 4.0};
  stats s{};
  if (stats_compute(timings.data(), static_cast<unsigned>(timings.size()), &s) != 0) return 1;
  std::printf("min %.1f max %.1f mean %.2f\n", s.min, s.max, s.mean);
  return 0;
}
