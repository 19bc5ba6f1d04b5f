#include "stats.h"

int stats_compute(const double *values, unsigned n, struct stats *out)
{
  if (n == 0)
    return -1;
  double sum = 0;
  out->min = out->max = values[0];
  for (unsigned i = 0; i < n; i++) {
    if (values[i] < out->min)
      out->min = values[i];
    if (values[i] > out->max)
      out->max = values[i];
    sum += values[i];
  }
  out->mean = sum / n;
  return 0;
}
