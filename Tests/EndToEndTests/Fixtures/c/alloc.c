/* Heap stress: many malloc/free cycles, realloc growth, a chained hash table, a linked list and
 * qsort. Deterministic (own PRNG). Exit status 0 if all self-checks pass, 10+n otherwise. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng_state = 12345;
static uint32_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

struct entry { char *key; int value; struct entry *next; };
struct table { struct entry **buckets; size_t nbuckets, count; };

static uint32_t hash(const char *s) {
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static void table_grow(struct table *t) {
    size_t nb = t->nbuckets ? t->nbuckets * 2 : 8;
    struct entry **b = calloc(nb, sizeof *b);
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (struct entry *e = t->buckets[i], *n; e; e = n) {
            n = e->next;
            size_t k = hash(e->key) % nb;
            e->next = b[k];
            b[k] = e;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

static void table_put(struct table *t, const char *key, int value) {
    if (t->count >= t->nbuckets) table_grow(t);
    size_t k = hash(key) % t->nbuckets;
    for (struct entry *e = t->buckets[k]; e; e = e->next)
        if (strcmp(e->key, key) == 0) { e->value += value; return; }
    struct entry *e = malloc(sizeof *e);
    e->key = strdup(key);
    e->value = value;
    e->next = t->buckets[k];
    t->buckets[k] = e;
    t->count++;
}

static int *table_get(struct table *t, const char *key) {
    if (!t->nbuckets) return NULL;
    for (struct entry *e = t->buckets[hash(key) % t->nbuckets]; e; e = e->next)
        if (strcmp(e->key, key) == 0) return &e->value;
    return NULL;
}

static void table_free(struct table *t) {
    for (size_t i = 0; i < t->nbuckets; i++)
        for (struct entry *e = t->buckets[i], *n; e; e = n) { n = e->next; free(e->key); free(e); }
    free(t->buckets);
}

struct node { int value; struct node *next; };

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    int fails = 0;

    /* 1. Churn: 200k allocations of random sizes, freed in a scrambled order. */
    enum { SLOTS = 1024 };
    static unsigned char *slots[SLOTS];
    static size_t sizes[SLOTS];
    uint64_t touched = 0;
    for (int i = 0; i < 200000; i++) {
        int s = rng() % SLOTS;
        if (slots[s]) {
            for (size_t j = 0; j < sizes[s]; j += 97)
                if (slots[s][j] != (unsigned char)(s + j)) fails++;
            free(slots[s]);
        }
        sizes[s] = 1 + rng() % ((i % 100 == 0) ? 200000 : 300);
        slots[s] = malloc(sizes[s]);
        for (size_t j = 0; j < sizes[s]; j += 97) slots[s][j] = (unsigned char)(s + j);
        touched += sizes[s];
    }
    for (int s = 0; s < SLOTS; s++) free(slots[s]);
    printf("churn: touched %" PRIu64 " bytes, corrupt=%d\n", touched, fails);

    /* 2. realloc growth: a dynamic array doubling to 1M ints, checked after every growth. */
    size_t cap = 1, len = 0;
    int *arr = malloc(cap * sizeof *arr);
    for (int i = 0; i < 1000000; i++) {
        if (len == cap) {
            cap *= 2;
            arr = realloc(arr, cap * sizeof *arr);
            if (arr[len / 2] != (int)(len / 2) * 3) fails++;
        }
        arr[len++] = i * 3;
    }
    int64_t s64 = 0;
    for (size_t i = 0; i < len; i++) s64 += arr[i];
    printf("realloc: len=%d cap=%d sum=%" PRId64 "\n", (int)len, (int)cap, s64);
    /* Shrink back. */
    arr = realloc(arr, 10 * sizeof *arr);
    printf("shrunk: %d %d %d\n", arr[0], arr[5], arr[9]);
    free(arr);

    /* 3. Hash table of words. */
    struct table t = {0};
    char word[16];
    for (int i = 0; i < 50000; i++) {
        int n = 1 + rng() % 3;
        for (int j = 0; j < n; j++) word[j] = (char)('a' + rng() % 8);
        word[n] = 0;
        table_put(&t, word, 1);
    }
    int *v = table_get(&t, "abc");
    printf("hash: %d distinct, buckets=%d, abc=%d, zz=%s\n", (int)t.count, (int)t.nbuckets,
           v ? *v : -1, table_get(&t, "zz") ? "yes" : "no");
    char **keys = malloc(t.count * sizeof *keys);
    size_t nk = 0;
    for (size_t i = 0; i < t.nbuckets; i++)
        for (struct entry *e = t.buckets[i]; e; e = e->next) keys[nk++] = e->key;
    qsort(keys, nk, sizeof *keys, cmp_str);
    printf("first keys:");
    for (int i = 0; i < 8; i++) printf(" %s=%d", keys[i], *table_get(&t, keys[i]));
    printf("\n");
    free(keys);
    table_free(&t);

    /* 4. Linked list: build, reverse, remove odd values, sum. */
    struct node *head = NULL;
    for (int i = 0; i < 100000; i++) {
        struct node *n = malloc(sizeof *n);
        n->value = i;
        n->next = head;
        head = n;
    }
    struct node *rev = NULL;
    while (head) { struct node *n = head->next; head->next = rev; rev = head; head = n; }
    struct node **pp = &rev;
    while (*pp) {
        if ((*pp)->value & 1) { struct node *d = *pp; *pp = d->next; free(d); }
        else pp = &(*pp)->next;
    }
    int64_t lsum = 0;
    int lcount = 0, first = rev ? rev->value : -1;
    while (rev) { struct node *n = rev->next; lsum += rev->value; lcount++; free(rev); rev = n; }
    printf("list: count=%d first=%d sum=%" PRId64 "\n", lcount, first, lsum);

    /* 5. qsort of 200k random ints. */
    int n = 200000;
    int *q = malloc(n * sizeof *q);
    for (int i = 0; i < n; i++) q[i] = (int)(rng() % 1000000) - 500000;
    qsort(q, n, sizeof *q, cmp_int);
    int sorted = 1;
    for (int i = 1; i < n; i++) if (q[i - 1] > q[i]) sorted = 0;
    printf("qsort: sorted=%d min=%d median=%d max=%d\n", sorted, q[0], q[n / 2], q[n - 1]);
    free(q);
    if (!sorted) fails++;

    /* 6. calloc is zeroed, big block allocation. */
    unsigned char *z = calloc(4 << 20, 1);
    int nonzero = 0;
    for (int i = 0; i < (4 << 20); i += 4096) nonzero += z[i] != 0;
    memset(z, 0xAB, 4 << 20);
    printf("calloc: nonzero=%d last=%02x\n", nonzero, z[(4 << 20) - 1]);
    free(z);
    fails += nonzero;

    printf("fails=%d\n", fails);
    return fails ? 10 + fails : 0;
}
