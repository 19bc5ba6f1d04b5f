#include "text.h"

#include <ctype.h>
#include <string.h>

int text_words(const char *text, struct list *out)
{
  char word[128];
  int n = 0;
  for (;;) {
    while (*text && isspace((unsigned char)*text))
      text++;
    size_t len = 0;
    while (text[len] && !isspace((unsigned char)text[len]))
      len++;
    if (len == 0)
      return n;
    /* Words longer than the buffer are kept truncated. */
    size_t keep = len < sizeof word ? len : sizeof word - 1;
    memcpy(word, text, keep);
    word[keep] = '\0';
    if (list_push(out, word) != 0)
      return -1;
    n++;
    text += len;
  }
}
