#include "greet.h"

#include <stdio.h>

int greet(char *buf, unsigned long size, const char *name)
{
  return snprintf(buf, size, "hello, %s", name);
}
