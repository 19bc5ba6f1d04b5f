#include "list.h"

#include <stdlib.h>
#include <string.h>

int list_push(struct list *l, const char *word)
{
  if (l->len == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    char **items = realloc(l->items, cap * sizeof *items);
    if (!items)
      return -1;
    l->items = items;
    l->cap = cap;
  }
  l->items[l->len] = strdup(word);
  return l->items[l->len++] ? 0 : -1;
}

void list_free(struct list *l)
{
  for (size_t i = 0; i < l->len; i++)
    free(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->len = l->cap = 0;
}
