/* Compiled with nothing but `pkg-config --cflags --libs palm-client`. */
#include <stdio.h>

#include "palm/palm.h"

int main(int argc, char** argv) {
  char options[1024];
  palm_client* client = NULL;
  char* counts = NULL;
  if (argc != 3) return 2;
  snprintf(options, sizeof options,
           "{\"db_path\": \"%s\", \"device_id\": \"c-consumer\", \"key_dir\": \"%s\"}", argv[1],
           argv[2]);
  if (palm_open(options, NULL, NULL, &client) != PALM_OK) {
    fprintf(stderr, "open: %s\n", palm_last_error_message());
    return 1;
  }
  if (palm_pending_counts(client, &counts) != PALM_OK) return 1;
  printf("c consumer ok (palm %s): %s\n", palm_version(), counts);
  palm_free(counts);
  palm_close(client);
  return 0;
}
