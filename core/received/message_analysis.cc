// message_analysis.cc — see message_analysis.h.
#include "core/received/message_analysis.h"

namespace mailsec::core::received {

MessageAnalysis analyseMessage(std::string_view message, const HeaderLimits& header_limits,
                               const ReceivedLimits& received_limits) {
  MessageAnalysis analysis;
  analysis.header = readHeaderBlock(message, header_limits);
  ReceivedCollector collector(received_limits);
  for (const HeaderField& field : analysis.header.fields) collector.offer(field.name, field.value);
  analysis.hops.reserve(collector.values().size());
  for (const std::string& value : collector.values()) analysis.hops.push_back(parseReceived(value));
  analysis.summary = summarizePath(analysis.hops, nullptr);
  analysis.received_header_cap_hit = collector.headerCapHit();
  analysis.received_byte_cap_hit = collector.byteCapHit();
  analysis.received_dropped = collector.dropped();
  return analysis;
}

}  // namespace mailsec::core::received
