/* wordfreq: word counting with an open-addressing hash table of malloc'd strings; the text is
 * generated from syllables with a skewed (Zipf-like) distribution. argv[1] = number of words.
 * String hashing, comparison, copying and allocation; prints the distinct count, the most
 * frequent words and a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

static const char *syllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "qua",
                                  "bri", "don", "fel", "gar", "hum", "jek", "pla", "stro", "wen", "yx"};

typedef struct { char *word; uint32_t len; uint32_t hash; long count; } Slot;

static Slot *table;
static size_t capacity, used;

static uint32_t fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static void grow(void);

static void add(const char *w, size_t n) {
    uint32_t h = fnv1a(w, n);
    size_t i = h & (capacity - 1);
    while (table[i].word) {
        if (table[i].hash == h && table[i].len == n && memcmp(table[i].word, w, n) == 0) { table[i].count++; return; }
        i = (i + 1) & (capacity - 1);
    }
    char *copy = malloc(n + 1);
    memcpy(copy, w, n);
    copy[n] = 0;
    table[i] = (Slot){copy, (uint32_t)n, h, 1};
    if (++used * 4 > capacity * 3) grow();
}

static void grow(void) {
    Slot *old = table;
    size_t oldcap = capacity;
    capacity *= 2;
    table = calloc(capacity, sizeof(Slot));
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].word) continue;
        size_t j = old[i].hash & (capacity - 1);
        while (table[j].word) j = (j + 1) & (capacity - 1);
        table[j] = old[i];
    }
    free(old);
}

static int by_count(const void *a, const void *b) {
    const Slot *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word);
}

int main(int argc, char **argv) {
    long words = bench_size(argc, argv, 3000000);
    capacity = 1024;
    table = calloc(capacity, sizeof(Slot));
    uint64_t s = 0x2545F4914F6CDD1DULL;
    char buf[64];
    bench_start();
    for (long k = 0; k < words; k++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        /* skewed length and syllable choice: short common words, a long tail of rare ones */
        int parts = 1 + (int)((s >> 8) % 4) * (int)((s >> 12) % 2) + (int)((s >> 16) % 2);
        size_t n = 0;
        uint64_t r = s >> 20;
        for (int p = 0; p < parts; p++) {
            unsigned idx = (unsigned)(r % 20);
            idx = idx * idx / 20;  /* favour the first syllables */
            r /= 20;
            const char *syl = syllables[idx];
            size_t l = strlen(syl);
            memcpy(buf + n, syl, l);
            n += l;
        }
        add(buf, n);
    }
    bench_end();
    Slot *all = malloc(sizeof(Slot) * used);
    size_t m = 0;
    uint64_t checksum = 0;
    for (size_t i = 0; i < capacity; i++)
        if (table[i].word) { all[m++] = table[i]; checksum += (uint64_t)table[i].count * table[i].hash; }
    qsort(all, m, sizeof(Slot), by_count);
    printf("words=%ld distinct=%zu checksum=%016llx top:", words, m, (unsigned long long)checksum);
    for (size_t i = 0; i < 5 && i < m; i++) printf(" %s=%ld", all[i].word, all[i].count);
    printf("\n");
    return 0;
}
