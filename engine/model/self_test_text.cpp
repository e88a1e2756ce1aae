#include "model/self_test_text.h"

namespace bonsai::model_detail {

const char* const kSelfTestPassage =
    "The sun rose over the quiet village, and the people began their day. Children walked to school "
    "while their parents went to work in the fields and the shops. In the evening, families sat together "
    "at the table, ate dinner and talked about what had happened during the day.";

}  // namespace bonsai::model_detail
