/* A growable list of words. */
#ifndef LIST_H
#define LIST_H

#include <stddef.h>

struct list {
  char **items;
  size_t len, cap;
};

int list_push(struct list *l, const char *word);
void list_free(struct list *l);

#endif
