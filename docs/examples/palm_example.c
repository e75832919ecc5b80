/*
 * palm_example: a handheld's day through the Palm C API, against a real
 * palm-server over mutual TLS, as an app reaching the library through FFI
 * (JNI, Swift) would do it.
 *
 *   palm_example --server 127.0.0.1:7443 --device-dir var/pki/devices/demo \
 *     --store /tmp/handheld --officer officer-li --secret-file var/pki/officer-li.secret \
 *     --partner officer-zhang --town wutong --evidence photo.jpg --log-key log-key.pem
 *
 * --device-dir is what `palmctl device enroll --out` wrote (device.crt,
 * device.key, ca.crt, device-id.txt); --store a directory for the device's
 * encrypted store and its key file; --partner the second credentialed
 * officer on the scene (Art. 42 needs two); --log-key the evidence log's
 * public key (`palmctl log key --out log-key.pem`).
 *
 * Steps: sign in, first sync (catalogue, roster, ticket numbers), record a
 * case with a party, attach the evidence file, issue an on-the-spot ticket,
 * sync, then print the official case number and whether the evidence
 * receipt verifies. Exits 0 when every step succeeded, 1 otherwise, 2 on a
 * usage error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "palm/palm.h"

/* Prints the outcome of `step`; returns 1 when it succeeded. */
static int check(const char* step, palm_code code) {
  if (code == PALM_OK) {
    printf("ok    %s\n", step);
    return 1;
  }
  fprintf(stderr, "FAIL  %s: code %d [%s] %s\n", step, (int)code, palm_last_error_reason(),
          palm_last_error_message());
  return 0;
}

/* Reads the first line of `path` into a malloc'd string (NULL on failure). */
static char* read_line(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  char buf[1024];
  char* got = fgets(buf, sizeof buf, f);
  fclose(f);
  if (got == NULL) return NULL;
  buf[strcspn(buf, "\r\n")] = '\0';
  return strdup(buf);
}

/* Reads the whole of `path` into a malloc'd string (NULL on failure). */
static char* read_all(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t cap = 4096, len = 0;
  char* text = malloc(cap);
  size_t n;
  while (text != NULL && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len <= 1) text = realloc(text, cap *= 2);
  }
  fclose(f);
  if (text != NULL) text[len] = '\0';
  return text;
}

/* Copies `s` into `out` as a JSON string body (quotes and backslashes escaped). */
static void json_escape(const char* s, char* out, size_t size) {
  size_t j = 0;
  for (; *s != '\0' && j + 2 < size; ++s) {
    if (*s == '"' || *s == '\\') out[j++] = '\\';
    out[j++] = *s;
  }
  out[j] = '\0';
}

/* The value of `--name VALUE` in argv, or NULL. */
static const char* flag(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return NULL;
}

/* The value of "key": "..." in `json` (first occurrence) into `out`. */
static int json_string(const char* json, const char* key, char* out, size_t size) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  const char* at = strstr(json, pattern);
  if (at == NULL) {
    snprintf(pattern, sizeof pattern, "\"%s\": \"", key);
    at = strstr(json, pattern);
  }
  if (at == NULL) return 0;
  at += strlen(pattern);
  size_t j = 0;
  while (*at != '\0' && *at != '"' && j + 1 < size) out[j++] = *at++;
  out[j] = '\0';
  return j > 0;
}

int main(int argc, char** argv) {
  const char* server = flag(argc, argv, "--server");
  const char* device_dir = flag(argc, argv, "--device-dir");
  const char* store = flag(argc, argv, "--store");
  const char* officer = flag(argc, argv, "--officer");
  const char* secret_file = flag(argc, argv, "--secret-file");
  const char* partner = flag(argc, argv, "--partner");
  const char* town = flag(argc, argv, "--town");
  const char* evidence = flag(argc, argv, "--evidence");
  const char* log_key_file = flag(argc, argv, "--log-key");
  if (argc % 2 != 1 || !server || !device_dir || !store || !officer || !secret_file || !partner ||
      !town || !evidence || !log_key_file) {
    fprintf(stderr,
            "usage: %s --server HOST:PORT --device-dir DIR --store DIR --officer ID"
            " --secret-file FILE --partner ID --town ID --evidence FILE --log-key PEM\n",
            argv[0]);
    return 2;
  }
  printf("Palm client library %s\n", palm_version());

  char path[1024], dir[1024], store_dir[1024], file[1024];
  json_escape(device_dir, dir, sizeof dir);
  json_escape(store, store_dir, sizeof store_dir);
  json_escape(evidence, file, sizeof file);
  snprintf(path, sizeof path, "%s/device-id.txt", device_dir);
  char* device_id = read_line(path);
  char* secret = read_line(secret_file);
  char* log_key = read_all(log_key_file);
  if (device_id == NULL || secret == NULL || log_key == NULL) {
    fprintf(stderr, "cannot read %s, %s or %s\n", path, secret_file, log_key_file);
    return 1;
  }

  /* The device's store: created on first use, encrypted with a key the
   * library keeps in key_dir (an app passes a palm_key_fn backed by the
   * Android Keystore or the iOS Keychain instead). */
  if (mkdir(store, 0700) != 0 && access(store, W_OK) != 0) {
    fprintf(stderr, "cannot create the store directory %s\n", store);
    return 1;
  }
  char options[4096];
  snprintf(options, sizeof options,
           "{\"db_path\": \"%s/device.db\", \"device_id\": \"%s\", \"key_dir\": \"%s/keys\"}",
           store_dir, device_id, store_dir);
  palm_client* client = NULL;
  if (!check("open the device store", palm_open(options, NULL, NULL, &client))) return 1;

  /* One connection description serves sign-in and sync. */
  char connection[4096];
  snprintf(connection, sizeof connection,
           "{\"server_address\": \"%s\", \"ca_cert_path\": \"%s/ca.crt\","
           " \"client_cert_path\": \"%s/device.crt\", \"client_key_path\": \"%s/device.key\","
           " \"timeout_ms\": 30000}",
           server, dir, dir, dir);

  int ok = 1;
  char* json = NULL;
  ok = ok && check("sign in", palm_sign_in(client, connection, officer, secret, &json));
  palm_free(json);
  json = NULL;
  ok = ok && check("first sync (catalogue, roster, ticket numbers)",
                   palm_sync(client, connection, &json));
  palm_free(json);
  json = NULL;

  /* A street vendor blocking the pavement, settled on the spot. */
  char case_json[4096];
  snprintf(case_json, sizeof case_json,
           "{\"matter_code\": \"SR-0101\", \"procedure\": \"PROCEDURE_SUMMARY\","
           " \"town_id\": \"%s\", \"description\": \"占道经营\","
           " \"place\": {\"address\": \"梧桐街道庆丰路\","
           " \"location\": {\"latitude\": 30.63, \"longitude\": 120.56}},"
           " \"officer_ids\": [\"%s\", \"%s\"],"
           " \"parties\": [{\"party_id\": \"p1\", \"kind\": \"PARTY_KIND_CITIZEN\","
           " \"name\": \"张三\", \"id_number\": \"330483199001011234\"}]}",
           town, officer, partner);
  char* case_id = NULL;
  ok = ok && check("record a case with a party", palm_record_case(client, case_json, &case_id));

  char evidence_json[1024];
  snprintf(evidence_json, sizeof evidence_json,
           "{\"case_id\": \"%s\", \"kind\": \"EVIDENCE_KIND_PHOTO\", \"mime_type\": \"image/jpeg\","
           " \"description\": \"现场照片\"}",
           case_id ? case_id : "");
  char* evidence_id = NULL;
  ok = ok && check("attach the evidence file",
                   palm_add_evidence_file(client, evidence_json, evidence, &evidence_id));

  char ticket_json[4096];
  snprintf(ticket_json, sizeof ticket_json,
           "{\"case_id\": \"%s\", \"party_id\": \"p1\", \"violation\": \"在庆丰路人行道设摊经营\","
           " \"legal_basis\": \"《浙江省城市市容和环境卫生管理条例》第十九条第一款\","
           " \"penalty_basis\": \"《浙江省城市市容和环境卫生管理条例》第五十一条\","
           " \"penalty\": \"PENALTY_KIND_FINE\", \"fine_fen\": 10000,"
           " \"place\": {\"address\": \"梧桐街道庆丰路\"},"
           " \"remedies\": [{\"kind\": \"REMEDY_KIND_RECONSIDERATION\","
           " \"body\": \"桐乡市人民政府\", \"deadline_days\": 60},"
           " {\"kind\": \"REMEDY_KIND_LITIGATION\", \"body\": \"桐乡市人民法院\","
           " \"deadline_months\": 6}],"
           " \"agency\": \"桐乡市综合行政执法局\", \"officer_ids\": [\"%s\", \"%s\"],"
           " \"party_signature\": \"PARTY_SIGNATURE_SIGNED\"}",
           case_id ? case_id : "", officer, partner);
  ok = ok && check("issue an on-the-spot ticket (100 yuan)",
                   palm_issue_ticket(client, ticket_json, &json));
  char ticket_number[128] = "";
  if (json != NULL) json_string(json, "ticket_number_text", ticket_number, sizeof ticket_number);
  palm_free(json);
  json = NULL;

  ok = ok && check("sync (push the case, upload the evidence, pull)",
                   palm_sync(client, connection, &json));
  palm_free(json);
  json = NULL;

  char case_number[256] = "";
  if (ok && check("read the case back", palm_get_case(client, case_id, &json))) {
    json_string(json, "case_number", case_number, sizeof case_number);
  }
  palm_free(json);
  json = NULL;
  if (case_number[0] == '\0') {
    fprintf(stderr, "FAIL  the case has no official number after the sync\n");
    ok = 0;
  }

  int verified = 0;
  if (ok && check("export the evidence receipt",
                  palm_export_evidence_receipt(client, evidence_id, &json))) {
    verified = check("verify the receipt offline (log key and file)",
                     palm_verify_evidence_receipt(json, log_key, evidence));
  }
  palm_free(json);
  json = NULL;

  check("sign out", palm_sign_out(client, connection));
  printf("case number:      %s\n", case_number);
  printf("ticket number:    %s\n", ticket_number);
  printf("evidence receipt: %s\n", verified ? "verifies" : "does NOT verify");

  palm_free(case_id);
  palm_free(evidence_id);
  palm_close(client);
  free(device_id);
  free(secret);
  free(log_key);
  return ok && verified ? 0 : 1;
}
