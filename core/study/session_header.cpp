#include "core/study/session_header.h"

#include <filesystem>

#include "core/model/compute_dtype.h"
#include "core/study/experiment_runner.h"
#include "core/util/sha256.h"

namespace fs = std::filesystem;

namespace qs {

SessionHeader make_session_header(const CausalLM& model, const CalibrationSettings& calibration)
{
    SessionHeader h;
    h.quantscope_version = QS_VERSION;
    h.created = utc_timestamp();
    h.model_path = fs::absolute(model.directory()).lexically_normal().string();
    h.model_config_sha256 = sha256_file_hex(model.directory() + "/config.json");
    h.architecture = model.config().model_type;
    h.num_layers = model.num_layers();
    h.hidden_size = model.config().hidden_size;
    h.calibration = {calibration.dataset, calibration.samples, calibration.seqlen,
                     calibration.seed};
    h.compute_dtype = compute_dtype_name(model.compute_dtype());
    return h;
}

}  // namespace qs
