/* The demo program: prints a greeting. Compiled by `npm start` through `meshcc gcc`. */
#include <stdio.h>

#include "greet.h"

int main(int argc, char **argv)
{
  char line[256];
  const char *name = argc > 1 ? argv[1] : GREET_DEFAULT_NAME;
  if (greet(line, sizeof line, name) < 0)
    return 1;
  puts(line);
  return 0;
}
