/*
 * palm_example: the Palm C API end to end, as an app reaching the library
 * through FFI would use it.
 *
 *   palm_example <db_path> <key_dir>
 *
 * The device must already hold reference data from a sync (matter
 * catalogue, officer roster, a leased block of ticket numbers); the test in
 * tests/client/c_api_test.cc prepares such a database and runs this program.
 * Exits 0 when every step behaved as expected.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "palm/palm.h"

static int failures = 0;

/* Reports a step; counts it as a failure when `got` is not `want`. */
static void expect(const char* step, palm_code got, palm_code want) {
  if (got == want) {
    printf("ok   %s", step);
  } else {
    printf("FAIL %s: code %d, want %d", step, (int)got, (int)want);
    failures++;
  }
  if (got != PALM_OK) {
    printf(" [%s] %s", palm_last_error_reason(), palm_last_error_message());
  }
  printf("\n");
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <db_path> <key_dir>\n", argv[0]);
    return 2;
  }
  char options[2048];
  snprintf(options, sizeof options,
           "{\"db_path\": \"%s\", \"device_id\": \"device-example\", \"key_dir\": \"%s\"}", argv[1],
           argv[2]);

  palm_client* client = NULL;
  expect("open", palm_open(options, NULL, NULL, &client), PALM_OK);
  if (client == NULL) return 1;
  expect("sign in", palm_set_officer(client, "officer-1"), PALM_OK);

  /* A street vendor blocking the pavement, settled on the spot. */
  char* case_id = NULL;
  expect("record case",
         palm_record_case(client,
                          "{\"matter_code\": \"SR-0101\", \"procedure\": \"PROCEDURE_SUMMARY\","
                          " \"town_id\": \"town-wutong\", \"description\": \"占道经营\","
                          " \"place\": {\"address\": \"梧桐街道庆丰路\", \"location\":"
                          " {\"latitude\": 30.63, \"longitude\": 120.56}},"
                          " \"officer_ids\": [\"officer-1\", \"officer-2\"],"
                          " \"parties\": [{\"party_id\": \"p1\", \"kind\": \"PARTY_KIND_CITIZEN\","
                          " \"name\": \"张三\", \"id_number\": \"330483199001011234\"}]}",
                          &case_id),
         PALM_OK);
  if (case_id == NULL) return 1;

  char ticket_json[2048];
  const char* ticket_fmt =
      "{\"case_id\": \"%s\", \"party_id\": \"p1\", \"violation\": \"在庆丰路人行道设摊经营\","
      " \"legal_basis\": \"《浙江省城市市容和环境卫生管理条例》第十九条\","
      " \"penalty_basis\": \"《浙江省城市市容和环境卫生管理条例》第五十一条\","
      " \"penalty\": \"PENALTY_KIND_FINE\", \"fine_fen\": %d,"
      " \"place\": {\"address\": \"梧桐街道庆丰路\"},"
      " \"remedies\": [{\"kind\": \"REMEDY_KIND_RECONSIDERATION\", \"body\": \"桐乡市人民政府\","
      " \"deadline_days\": 60}, {\"kind\": \"REMEDY_KIND_LITIGATION\", \"body\": "
      "\"桐乡市人民法院\","
      " \"deadline_days\": 180}],"
      " \"agency\": \"桐乡市综合行政执法局\", \"officer_ids\": [\"officer-1\", \"officer-2\"],"
      " \"party_signature\": \"PARTY_SIGNATURE_SIGNED\"}";

  /* 250 yuan is over the Art. 51 limit for a citizen: refused, nothing written. */
  char* ticket = NULL;
  snprintf(ticket_json, sizeof ticket_json, ticket_fmt, case_id, 25000);
  expect("ticket over the limit is refused", palm_issue_ticket(client, ticket_json, &ticket),
         PALM_INVALID_ARGUMENT);
  if (strcmp(palm_last_error_reason(), "fine_over_limit") != 0) failures++;

  snprintf(ticket_json, sizeof ticket_json, ticket_fmt, case_id, 10000);
  expect("issue ticket", palm_issue_ticket(client, ticket_json, &ticket), PALM_OK);
  if (ticket != NULL) printf("     ticket: %s\n", ticket);
  palm_free(ticket);

  int64_t left = -1;
  expect("ticket numbers left", palm_ticket_numbers_left(client, &left), PALM_OK);
  printf("     %lld left\n", (long long)left);

  char event[512];
  snprintf(event, sizeof event,
           "{\"case_id\": \"%s\", \"kind\": \"CASE_EVENT_KIND_PAYMENT\", \"amount_fen\": 10000}",
           case_id);
  char* event_id = NULL;
  expect("record payment", palm_append_event(client, event, &event_id), PALM_OK);
  palm_free(event_id);

  char* json = NULL;
  expect("get case", palm_get_case(client, case_id, &json), PALM_OK);
  if (json != NULL) printf("     %.200s...\n", json);
  palm_free(json);

  expect("pending counts", palm_pending_counts(client, &json), PALM_OK);
  if (json != NULL) printf("     %s\n", json);
  palm_free(json);

  /* Still offline: a sync attempt fails cleanly and loses nothing. */
  expect("sync with no server reachable",
         palm_sync(client,
                   "{\"server_address\": \"127.0.0.1:1\", \"insecure_loopback\": true,"
                   " \"timeout_ms\": 2000}",
                   &json),
         PALM_UNAVAILABLE);
  expect("pending counts after the failed sync", palm_pending_counts(client, &json), PALM_OK);
  if (json != NULL) printf("     %s\n", json);
  palm_free(json);

  palm_free(case_id);
  palm_close(client);
  printf("%s\n", failures == 0 ? "all steps behaved as expected" : "some steps failed");
  return failures == 0 ? 0 : 1;
}
