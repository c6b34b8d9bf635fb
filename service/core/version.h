// The build's version (CMake's project version) and build type.
#ifndef ATTRIBUTION_SERVICE_CORE_VERSION_H_
#define ATTRIBUTION_SERVICE_CORE_VERSION_H_

namespace attribution {

inline constexpr char kVersion[] = ATTRIBUTION_VERSION;
inline constexpr char kBuildType[] = ATTRIBUTION_BUILD_TYPE;

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_VERSION_H_
