/* Summary statistics over an array of doubles (C library used from C++). */
#ifndef STATS_H
#define STATS_H

#ifdef __cplusplus
extern "C" {
#endif

struct stats {
  double min, max, mean;
};

/* Fills *out for values[0..n); returns 0, or -1 if n is 0. */
int stats_compute(const double *values, unsigned n, struct stats *out);

#ifdef __cplusplus
}
#endif

#endif
