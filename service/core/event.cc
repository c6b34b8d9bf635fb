#include "service/core/event.h"

namespace attribution {

Stage EffectiveStage(Stage given, int64_t at_us,
                     const int64_t* first_purchase_us) {
  if (given != Stage::kUnspecified) return given;
  // A touch at the very instant of the first purchase is taken as leading to
  // it, as attribution paths do.
  if (first_purchase_us == nullptr || at_us <= *first_purchase_us) {
    return Stage::kDiscovery;
  }
  return Stage::kPurchase;
}

}  // namespace attribution
