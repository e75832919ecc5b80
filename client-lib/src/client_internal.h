// Access to a palm::Client's internals for the rest of client-lib (the C API,
// the future sync client) and for tests. Not installed.
#ifndef PALM_CLIENT_CLIENT_INTERNAL_H_
#define PALM_CLIENT_CLIENT_INTERNAL_H_

#include <memory>

#include "client-lib/src/device_store.h"
#include "palm/client.h"

namespace palm::internal {

struct ClientAccess {
  // The store behind `client`; lives as long as the client.
  static DeviceStore& Store(Client& client) { return *client.store_; }
};

// Conversions between the public value types and the wire form.
v1::Case ToProto(const CaseInput& in);
v1::Party ToProto(const Party& in);
v1::Evidence ToProto(const EvidenceInput& in);
v1::Ticket ToProto(const TicketInput& in);
v1::NoPenaltyDecision ToProto(const NoPenaltyInput& in);
v1::CaseEvent ToProto(const CaseEventInput& in);
CaseRecord FromProto(const v1::Case& c);
Evidence FromProto(const v1::Evidence& e, const std::string& content_path);
Ticket FromProto(const v1::Ticket& t);
NoPenaltyDecision FromProto(const v1::NoPenaltyDecision& d);
CaseEvent FromProto(const v1::CaseEvent& e);
v1::ServiceRecord ToProto(const ServiceRecord& in);
ServiceRecord FromProto(const v1::ServiceRecord& r);
v1::PaymentRecord ToProto(const PaymentRecord& in);
PaymentRecord FromProto(const v1::PaymentRecord& r);
v1::HandOverRecord ToProto(const HandOverRecord& in);
HandOverRecord FromProto(const v1::HandOverRecord& r);
CaseClock FromProto(const v1::CaseClock& k);
Matter FromProto(const v1::Matter& m);

}  // namespace palm::internal

#endif  // PALM_CLIENT_CLIENT_INTERNAL_H_
