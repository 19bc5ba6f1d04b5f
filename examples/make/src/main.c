/* wordcount: counts the words of its arguments (a tiny program for the Makefile example). */
#include <stdio.h>

#include "text.h"

int main(int argc, char **argv)
{
  struct list words = {0};
  for (int i = 1; i < argc; i++)
    if (text_words(argv[i], &words) < 0)
      return 1;
  printf("%zu words\n", words.len);
  if (words.len > 0)
    printf("first: %s, last: %s\n", words.items[0], words.items[words.len - 1]);
  list_free(&words);
  return 0;
}
