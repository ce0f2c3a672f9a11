//! The package catalog: numbered package versions, immutable once added.

use std::collections::BTreeMap;

use crate::model::{Package, Version};

/// Why a catalog operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The version is `$LATEST` or not numbered.
    #[error("package {name} version {version:?} is not a numbered version")]
    NotNumbered {
        /// Package name.
        name: String,
        /// The version given.
        version: String,
    },
    /// The same name and version exists with different content: versions are immutable.
    #[error(
        "package {name}@{version} already exists with different content (versions are immutable)"
    )]
    Immutable {
        /// Package name.
        name: String,
        /// Version.
        version: String,
    },
    /// No such package version.
    #[error("package {name}@{version} is not in the catalog")]
    NotFound {
        /// Package name.
        name: String,
        /// Version.
        version: String,
    },
    /// The package version is used by a live deployment.
    #[error("package {name}@{version} is in use by deployment {deployment}")]
    InUse {
        /// Package name.
        name: String,
        /// Version.
        version: String,
        /// A deployment using it.
        deployment: String,
    },
}

/// Packages by name and version.
#[derive(Debug, Default, Clone)]
pub(crate) struct Catalog {
    packages: BTreeMap<(String, Version), Package>,
}

impl Catalog {
    /// Adds a package version. Returns `Ok(false)` when the identical version is already there;
    /// refuses a different package under an existing name and version.
    pub(crate) fn add(&mut self, package: Package) -> Result<bool, CatalogError> {
        let added = self.check_add(&package)?;
        if added {
            let key = (package.name.clone(), package.version.clone());
            self.packages.insert(key, package);
        }
        Ok(added)
    }

    /// What [`add`](Self::add) would answer, changing nothing.
    pub(crate) fn check_add(&self, package: &Package) -> Result<bool, CatalogError> {
        if !package.version.is_numbered() {
            return Err(CatalogError::NotNumbered {
                name: package.name.clone(),
                version: package.version.to_string(),
            });
        }
        let key = (package.name.clone(), package.version.clone());
        match self.packages.get(&key) {
            Some(existing) if existing == package => Ok(false),
            Some(_) => Err(CatalogError::Immutable {
                name: package.name.clone(),
                version: package.version.to_string(),
            }),
            None => Ok(true),
        }
    }

    /// One package version.
    pub(crate) fn get(&self, name: &str, version: &Version) -> Option<&Package> {
        self.packages.get(&(name.to_owned(), version.clone()))
    }

    /// Every package version, by name then version.
    pub(crate) fn list(&self) -> Vec<&Package> {
        self.packages.values().collect()
    }

    /// Removes a package version; `in_use_by` names a live deployment using it, if any.
    pub(crate) fn remove(
        &mut self,
        name: &str,
        version: &Version,
        in_use_by: Option<&str>,
    ) -> Result<Package, CatalogError> {
        self.check_remove(name, version, in_use_by)?;
        self.packages
            .remove(&(name.to_owned(), version.clone()))
            .ok_or_else(|| CatalogError::NotFound {
                name: name.to_owned(),
                version: version.to_string(),
            })
    }

    /// What [`remove`](Self::remove) would refuse, changing nothing.
    pub(crate) fn check_remove(
        &self,
        name: &str,
        version: &Version,
        in_use_by: Option<&str>,
    ) -> Result<(), CatalogError> {
        let key = (name.to_owned(), version.clone());
        if !self.packages.contains_key(&key) {
            return Err(CatalogError::NotFound {
                name: name.to_owned(),
                version: version.to_string(),
            });
        }
        if let Some(d) = in_use_by {
            return Err(CatalogError::InUse {
                name: name.to_owned(),
                version: version.to_string(),
                deployment: d.to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(command: &str) -> Package {
        serde_json::from_str(&format!(
            r#"{{"name": "demo", "version": "1", "components": [{{"name": "main",
                "placement": {{"kind": "device", "runtime": "preinstalled", "architecture": "amd64"}},
                "executables": [{{"name": "main", "command": ["{command}"]}}]}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn versions_are_immutable_and_adding_the_same_again_is_a_no_op() {
        let mut catalog = Catalog::default();
        assert_eq!(catalog.add(package("/bin/a")), Ok(true));
        assert_eq!(catalog.add(package("/bin/a")), Ok(false));
        assert!(matches!(
            catalog.add(package("/bin/b")),
            Err(CatalogError::Immutable { .. })
        ));
        assert_eq!(catalog.list().len(), 1);
        assert!(matches!(
            catalog.remove("demo", &Version::new("1"), Some("d1")),
            Err(CatalogError::InUse { .. })
        ));
        assert!(catalog.remove("demo", &Version::new("1"), None).is_ok());
        assert!(catalog.list().is_empty());
    }
}
