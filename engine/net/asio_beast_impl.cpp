// Boost.Asio and Boost.Beast, compiled once for the whole program (their
// separate-compilation mode): every other file only declares what it uses.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
