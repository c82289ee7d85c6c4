#pragma once

// A throwaway CA and server certificates, made with the openssl command at
// test time in a fresh temporary folder that is removed afterwards.

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace gcstream::test {

struct throwaway_ca {
  std::string dir;

  throwaway_ca() {
    char tmpl[] = "/tmp/gcstream-ca-XXXXXX";
    if (!mkdtemp(tmpl))
      throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    make_ca("ca");
  }

  ~throwaway_ca() { std::system(("rm -rf '" + dir + "'").c_str()); }

  std::string path(const std::string& name) const { return dir + "/" + name; }

  /// Makes CA `name` (name.pem, name.key).
  void make_ca(const std::string& name) {
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + path(name + ".key")
        + " -out " + path(name + ".pem")
        + " -days 2 -subj '/CN=gcstream test CA'"
          " -addext 'basicConstraints=critical,CA:TRUE'"
          " -addext 'keyUsage=critical,keyCertSign,cRLSign'");
  }

  /// Makes a server certificate `name` (name.pem, name.key) signed by CA
  /// `ca`, with the given subjectAltName list ("DNS:localhost,IP:127.0.0.1").
  void make_cert(const std::string& name, const std::string& san,
                 const std::string& ca = "ca") {
    run("openssl req -newkey rsa:2048 -nodes -keyout " + path(name + ".key")
        + " -out " + path(name + ".csr") + " -subj '/CN=" + name + "'");
    std::ofstream{path(name + ".ext")}
      << "subjectAltName=" << san << "\nextendedKeyUsage=serverAuth\n";
    run("openssl x509 -req -in " + path(name + ".csr") + " -CA " + path(ca + ".pem")
        + " -CAkey " + path(ca + ".key") + " -CAcreateserial -out "
        + path(name + ".pem") + " -days 2 -extfile " + path(name + ".ext"));
  }

private:
  static void run(const std::string& cmd) {
    if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0)
      throw std::runtime_error("failed: " + cmd);
  }
};

} // namespace gcstream::test
