#include <stdio.h>

#include "counter.h"

int main(void)
{
  Counter *c = [Counter create];
  int i;
  for (i = 0; i < 3; i++)
    [c increment];
  printf("objective-c counter: %d\n", [c count]);
  return 0;
}
